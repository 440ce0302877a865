"""Server-rendered pages of the gift-list domain.

The pages render a shell; their scripts (``static/giftlists/``) load the data
over the REST API and keep it live with ``realtime.js``.
"""

import math

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from . import services
from .exceptions import InvitationGone, InvitationNotFound
from .models import GiftList
from .selectors import families_for, gift_lists_for, invitations_for
from .throttles import InvitationAcceptThrottle

INVITATION_TEMPLATE = "giftlists/invitation.html"


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The signed-in user's families, each with its gift lists."""
    families = families_for(request.user).prefetch_related(
        Prefetch(
            "gift_lists",
            queryset=GiftList.objects.select_related("owner").order_by("title", "id"),
        )
    )
    return render(request, "giftlists/home.html", {"families": families})


@login_required
def gift_list(request: HttpRequest, pk: int) -> HttpResponse:
    """One gift list, live; 404 for anyone who may not see it, as in the API."""
    shown = get_object_or_404(gift_lists_for(request.user), pk=pk)
    return render(
        request,
        "giftlists/gift_list.html",
        {"gift_list": shown, "is_owner": shown.owner_id == request.user.pk},
    )


@login_required
def inspector(request: HttpRequest) -> HttpResponse:
    """Staff only: follow any topic and watch its raw events arrive."""
    if not request.user.is_staff:
        raise PermissionDenied("The event inspector is for staff only.")
    return render(request, "giftlists/inspector.html")


def invitation_url(request: HttpRequest, token: str) -> str:
    """The absolute address of the page where a person accepts ``token``."""
    return request.build_absolute_uri(reverse("invitation", args=[token]))


@login_required
@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """An invitation: who invites you where, and a button that joins.

    Opening the link never accepts it (mail scanners and link previews open
    links too); the button's POST does, through the same service and within
    the same per-user limit as ``POST /api/invitations/<token>/accept/``.
    """
    if request.method == "POST":
        return _accept_invitation(request, token)
    found = invitations_for(request.user, token).first()
    if found is None:
        raise Http404(InvitationNotFound.default_message)
    context = {"invitation": found, "family": found.family}
    if found.family.memberships.filter(user_id=request.user.pk).exists():
        return render(request, INVITATION_TEMPLATE, context | {"member": True})
    try:
        services.check_invitation_usable(found)
    except InvitationGone as gone:
        context["problem"] = gone.message
        return render(request, INVITATION_TEMPLATE, context, status=410)
    return render(request, INVITATION_TEMPLATE, context)


def _accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    throttle = InvitationAcceptThrottle()
    if not throttle.allow_request(request, None):
        response = render(
            request,
            INVITATION_TEMPLATE,
            {"problem": "Too many attempts. Please try again later."},
            status=429,
        )
        response["Retry-After"] = str(math.ceil(throttle.wait() or 1))
        return response
    try:
        membership, joined = services.accept_invitation(request.user, token)
    except InvitationNotFound as missing:
        raise Http404(missing.message) from None
    except InvitationGone as gone:
        found = invitations_for(request.user, token).first()
        context = {"invitation": found, "family": found.family, "problem": gone.message}
        return render(request, INVITATION_TEMPLATE, context, status=410)
    name = membership.family.name
    if joined:
        messages.success(request, f"Welcome to {name}!")
    else:
        messages.info(request, f"You are already a member of {name}.")
    return redirect("home")


def favicon(request: HttpRequest) -> HttpResponse:
    """``/favicon.ico``, which browsers ask for on pages that name no icon."""
    return HttpResponsePermanentRedirect(static("giftlists/favicon.svg"))
