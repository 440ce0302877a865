"""Health, readiness and metrics: ``path("", include("realtime.ops.urls"))``."""

from django.urls import path

from realtime.ops.health import healthz, readyz
from realtime.ops.metrics import metrics_view

urlpatterns = [
    path("healthz", healthz, name="realtime-healthz"),
    path("readyz", readyz, name="realtime-readyz"),
    path("metrics", metrics_view, name="realtime-metrics"),
]
