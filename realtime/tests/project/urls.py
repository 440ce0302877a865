"""The test project's routes: exactly what the docs tell a project to add."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("realtime.urls")),
    path("", include("realtime.ops.urls")),
]
