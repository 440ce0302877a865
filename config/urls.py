"""URL routes: pages, the REST API, its schema and docs, the admin."""

from django.contrib import admin
from django.contrib.auth.views import LoginView
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from giftlists import accounts
from giftlists.signin import SignInForm, obtain_auth_token

urlpatterns = [
    path("", include("realtime.ops.urls")),  # /healthz, /readyz, /metrics
    path("admin/", admin.site.urls),
    # Django's login view, with a form that says when sign-ins are throttled.
    path(
        "accounts/login/",
        LoginView.as_view(authentication_form=SignInForm),
        name="login",
    ),
    path("accounts/signup/", accounts.sign_up, name="signup"),
    # Django's password views, in the site's templates, with throttled forms.
    path(
        "accounts/password_reset/",
        accounts.SitePasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "accounts/password_change/",
        accounts.SitePasswordChangeView.as_view(),
        name="password_change",
    ),
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
