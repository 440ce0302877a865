"""URL routes: pages, the REST API, its schema and docs, the admin."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import ObtainAuthToken

from realtime.transports.parsers import PARSER_CLASSES

# DRF's token view names its own parsers; give it the bounded JSON parser.
obtain_auth_token = ObtainAuthToken.as_view(parser_classes=PARSER_CLASSES)

urlpatterns = [
    path("", include("realtime.ops.urls")),  # /healthz, /readyz, /metrics
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/auth/token/", obtain_auth_token, name="api-token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="api-schema"),
        name="api-docs",
    ),
    path("api/", include("realtime.urls")),
    path("api/", include("giftlists.api_urls")),
    path("", include("giftlists.urls")),
]
