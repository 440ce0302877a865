"""Accounts in the site's own pages: sign up, and Django's password reset and
change views with throttled forms.

Signing in and out are Django's views (``config/urls.py``); their throttle, and
these forms', live in ``giftlists.signin``. Every view here that follows a
``next`` checks it is on this site first.
"""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.forms import (
    PasswordChangeForm,
    PasswordResetForm,
    UserCreationForm,
)
from django.contrib.auth.views import PasswordChangeView, PasswordResetView
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from .signin import (
    PASSWORD_RESET,
    SIGNIN,
    SIGNUP,
    ThrottledFormMixin,
    record_failure,
)

#: The backend a new account is signed in with: the only one configured.
BACKEND = "giftlists.signin.ThrottledModelBackend"


def safe_next(request: HttpRequest) -> str:
    """The request's ``next`` (form or query), if it points into this site."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        candidate,
        allowed_hosts={request.get_host()},
        require_https=request.is_secure(),
    )
    return candidate if allowed else ""


class SignUpForm(ThrottledFormMixin, UserCreationForm):
    """A new account: username, email and a password Django's validators
    accept. Every submission counts against the address's sign-up limit."""

    attempts = SIGNUP
    attempts_name_field = None
    count_every_attempt = True

    email = forms.EmailField(
        max_length=254,
        help_text="Only for resetting your password; nobody else sees it.",
    )

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def __init__(self, *args: Any, request: HttpRequest | None = None, **kwargs: Any):
        self.request = request
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["username"].widget.attrs["autocomplete"] = "username"


class ThrottledPasswordResetForm(ThrottledFormMixin, PasswordResetForm):
    """Django's reset request, counted per address and per email: the same
    answer whether or not an account has that email."""

    attempts = PASSWORD_RESET
    attempts_name_field = "email"
    count_every_attempt = True

    def __init__(self, *args: Any, request: HttpRequest | None = None, **kwargs: Any):
        self.request = request
        super().__init__(*args, **kwargs)


class ThrottledPasswordChangeForm(PasswordChangeForm):
    """Django's password change; a wrong current password counts as a failed
    sign-in, and a throttled account is refused before it is checked."""

    def __init__(self, user: Any, *args: Any, request: Any = None, **kwargs: Any):
        self.request = request
        super().__init__(user, *args, **kwargs)

    @property
    def throttled(self) -> bool:
        """Whether the form was refused for too many failed sign-ins."""
        return self.has_error("old_password", "throttled")

    def clean_old_password(self) -> str:
        username = self.user.get_username()
        if self.request is None:
            return super().clean_old_password()
        wait = SIGNIN.retry_after(self.request, username)
        if wait is not None:
            raise ValidationError(SIGNIN.refusal(wait), code="throttled")
        try:
            return super().clean_old_password()
        except ValidationError:
            record_failure(self.request, username)
            raise


def _too_many(form: forms.Form) -> int:
    # A throttled form is shown again with its message, as a 429.
    return 429 if getattr(form, "throttled", False) else 200


@require_http_methods(["GET", "POST"])
def sign_up(request: HttpRequest) -> HttpResponse:
    """Create an account, sign it in and go on to ``next`` (an invitation, say)
    or home."""
    next_url = safe_next(request)
    if request.user.is_authenticated:
        return redirect(next_url or "home")
    data = request.POST if request.method == "POST" else None
    form = SignUpForm(data, request=request)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend=BACKEND)
        messages.success(request, f"Welcome, {user.get_username()}!")
        return redirect(next_url or "home")
    context = {"form": form, "next": next_url}
    return render(request, "registration/signup.html", context, status=_too_many(form))


class SitePasswordResetView(PasswordResetView):
    """Django's reset request with the throttled form; 429 while throttled."""

    form_class = ThrottledPasswordResetForm

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "request": self.request}

    def form_invalid(self, form: forms.Form) -> HttpResponse:
        response = super().form_invalid(form)
        response.status_code = _too_many(form)
        return response


class SitePasswordChangeView(PasswordChangeView):
    """Django's password change with the throttled form; 429 while throttled."""

    form_class = ThrottledPasswordChangeForm
    success_url = reverse_lazy("password_change_done")

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "request": self.request}

    def form_invalid(self, form: forms.Form) -> HttpResponse:
        response = super().form_invalid(form)
        response.status_code = _too_many(form)
        return response
