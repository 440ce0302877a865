"""Server-rendered pages of the gift-list domain.

The live pages render a shell; their scripts (``static/giftlists/``) load the
data over the REST API and keep it live with ``realtime.js``. Every change is
a plain form POST to a page here, through the same services as the API, so the
pages work before their scripts load; a refused change is shown on the form.
"""

import math
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
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
from django.views.decorators.http import require_http_methods, require_POST

from . import rules, services
from .exceptions import InvitationGone, InvitationNotFound, NotPermitted
from .forms import (
    CurrencyForm,
    FamilyForm,
    GiftListForm,
    InvitationForm,
    add_service_errors,
)
from .models import Family, Gift, GiftList
from .selectors import families_for, gift_lists_for, invitations_for, members_of
from .throttles import InvitationAcceptThrottle, InvitationCreateThrottle

INVITATION_TEMPLATE = "giftlists/invitation.html"
FAMILY_TEMPLATE = "giftlists/family.html"
TOO_MANY = "Too many attempts. Please try again later."


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The signed-in user's families, each with its gift lists."""
    families = families_for(request.user).prefetch_related(
        Prefetch(
            "gift_lists",
            queryset=GiftList.objects.select_related("owner").order_by("title", "id"),
        )
    )
    families = list(families)
    for family in families:
        lists = family.gift_lists.all()
        family.current_lists = [gl for gl in lists if not gl.archived]
        family.archived_lists = [gl for gl in lists if gl.archived]
    return render(request, "giftlists/home.html", {"families": families})


@login_required
def gift_list(request: HttpRequest, pk: int) -> HttpResponse:
    """One gift list, live; 404 for anyone who may not see it, as in the API."""
    shown = get_object_or_404(
        gift_lists_for(request.user).select_related("family", "owner"), pk=pk
    )
    context = {
        "gift_list": shown,
        "is_owner": shown.owner_id == request.user.pk,
        "can_manage": rules.can_manage_list(request.user, shown),
    }
    return render(request, "giftlists/gift_list.html", context)


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


def _throttled(throttle: Any, request: HttpRequest) -> int | None:
    # The API's per-user limits, for the pages that do the same: seconds to
    # wait when refused, else None (and the request is counted).
    if throttle.allow_request(request, None):
        return None
    return math.ceil(throttle.wait() or 1)


def _too_many(response: HttpResponse, wait: int) -> HttpResponse:
    response.status_code = 429
    response["Retry-After"] = str(wait)
    return response


def _accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    wait = _throttled(InvitationAcceptThrottle(), request)
    if wait is not None:
        page = render(request, INVITATION_TEMPLATE, {"problem": TOO_MANY})
        return _too_many(page, wait)
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


# Families


@login_required
@require_http_methods(["GET", "POST"])
def new_family(request: HttpRequest) -> HttpResponse:
    """Create a family; its creator is its first member and admin."""
    form = FamilyForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.create_family(request.user, form.cleaned_data["name"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, f"{created.name} is ready. Invite your family to join it."
            )
            return redirect("family", pk=created.pk)
    return render(request, "giftlists/family_form.html", {"form": form})


def _family_for(request: HttpRequest, pk: int) -> Family:
    # 404 for a family the user may not see, as in the API.
    return get_object_or_404(families_for(request.user), pk=pk)


def _family_page(request: HttpRequest, family: Family, **context: Any) -> HttpResponse:
    members = list(members_of(family))
    gift_lists = gift_lists_for(request.user, family_id=family.pk)
    gift_lists = list(gift_lists.select_related("owner").order_by("title", "id"))
    context = {
        "family": family,
        "members": members,
        "is_member": any(m.user_id == request.user.pk for m in members),
        "can_remove": rules.is_family_admin(request.user, family),
        "current_lists": [gl for gl in gift_lists if not gl.archived],
        "archived_lists": [gl for gl in gift_lists if gl.archived],
        "invitation_form": InvitationForm(),
        "currency_form": CurrencyForm(initial={"currency": family.currency}),
        **context,
    }
    return render(request, FAMILY_TEMPLATE, context)


@login_required
def family(request: HttpRequest, pk: int) -> HttpResponse:
    """A family: its members, its lists, a way to invite; live on ``family:<id>``."""
    return _family_page(request, _family_for(request, pk))


@login_required
@require_POST
def invite(request: HttpRequest, pk: int) -> HttpResponse:
    """Make an invitation link and show it, this once, on the family page.

    The answer is the page itself, not a redirect: the link exists only in
    this response (the database keeps its hash), so it is never stored in the
    session to be shown after a redirect.
    """
    shown = _family_for(request, pk)
    form = InvitationForm(request.POST)
    wait = _throttled(InvitationCreateThrottle(), request)
    if wait is not None:
        page = _family_page(request, shown, invitation_problem=TOO_MANY)
        return _too_many(page, wait)
    if not form.is_valid():
        return _family_page(request, shown, invitation_form=form)
    try:
        invitation, token = services.create_invitation(
            request.user, shown, form.cleaned_data["username"]
        )
    except ValidationError as error:
        add_service_errors(form, error)
        return _family_page(request, shown, invitation_form=form)
    link = {"url": invitation_url(request, token), "invitation": invitation}
    return _family_page(request, shown, new_invitation=link)


@login_required
@require_http_methods(["GET", "POST"])
def leave_family(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask, then leave a family; the lists you made stay in it."""
    shown = _family_for(request, pk)
    if not shown.memberships.filter(user_id=request.user.pk).exists():
        messages.info(request, f"You are not a member of {shown.name}.")
        return redirect("family", pk=shown.pk)
    if request.method == "POST":
        try:
            services.remove_member(request.user, shown, request.user)
        except ValidationError:
            pass  # gone already: a second tab, or an admin was quicker
        messages.success(request, f"You left {shown.name}.")
        return redirect("home")
    return render(request, "giftlists/leave_family.html", {"family": shown})


@login_required
@require_http_methods(["GET", "POST"])
def remove_member(request: HttpRequest, pk: int, user_id: int) -> HttpResponse:
    """Ask, then remove someone from a family: family admins (and staff) only."""
    shown = _family_for(request, pk)
    if user_id == request.user.pk:
        return redirect("leave-family", pk=shown.pk)
    # The user first: a primary-key lookup answers an id past the column's
    # range with "no such row"; a foreign-key filter would raise.
    target = get_object_or_404(get_user_model(), pk=user_id)
    membership = get_object_or_404(members_of(shown), user=target)
    if not rules.can_remove_member(request.user, shown, membership.user):
        raise PermissionDenied("Only a family admin may remove other members.")
    if request.method == "POST":
        try:
            services.remove_member(request.user, shown, membership.user)
        except NotPermitted as refused:
            raise PermissionDenied(refused.message) from None
        except ValidationError:
            pass  # gone already (someone else removed them, or they left)
        name = membership.user.get_username()
        messages.success(request, f"{name} is no longer a member of {shown.name}.")
        return redirect("family", pk=shown.pk)
    context = {"family": shown, "member": membership.user}
    return render(request, "giftlists/remove_member.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def new_gift_list(request: HttpRequest, pk: int) -> HttpResponse:
    """Create a gift list of your own in a family, then open it."""
    shown = _family_for(request, pk)
    form = GiftListForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.create_gift_list(
                request.user,
                shown,
                form.cleaned_data["title"],
                occasion_date=form.cleaned_data["occasion_date"],
                description=form.cleaned_data["description"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("gift-list", pk=created.pk)
    context = {"family": shown, "form": form}
    return render(request, "giftlists/gift_list_form.html", context)


@login_required
@require_POST
def family_currency(request: HttpRequest, pk: int) -> HttpResponse:
    """Set the currency of a family's prices: family admins only."""
    shown = _family_for(request, pk)
    if not rules.is_family_admin(request.user, shown):
        raise PermissionDenied("Only a family admin may change the currency.")
    form = CurrencyForm(request.POST)
    if form.is_valid():
        try:
            services.set_family_currency(
                request.user, shown, form.cleaned_data["currency"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Prices are now shown in {shown.currency}.")
            return redirect("family", pk=shown.pk)
    page = _family_page(request, shown, currency_form=form)
    page.status_code = 400
    return page


# Managing one's own list


def _own_list(request: HttpRequest, pk: int, doing: str) -> GiftList:
    # 404 for a list the user may not see; 403, saying why, for one they may
    # see but not manage.
    shown = get_object_or_404(
        gift_lists_for(request.user).select_related("family", "owner"), pk=pk
    )
    if not rules.can_manage_list(request.user, shown):
        raise PermissionDenied(f"Only the list's owner may {doing} it.")
    return shown


@login_required
@require_http_methods(["GET", "POST"])
def edit_gift_list(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a list's title, occasion date and description; its owner only."""
    shown = _own_list(request, pk, "edit")
    if shown.archived:
        messages.info(request, "This list is archived: restore it to edit it.")
        return redirect("gift-list", pk=shown.pk)
    initial = {
        "title": shown.title,
        "occasion_date": shown.occasion_date,
        "description": shown.description,
    }
    data = request.POST if request.method == "POST" else None
    form = GiftListForm(data, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_gift_list(request.user, shown, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except NotPermitted as refused:
            raise PermissionDenied(refused.message) from None
        else:
            messages.success(request, "Saved.")
            return redirect("gift-list", pk=shown.pk)
    context = {"family": shown.family, "form": form, "gift_list": shown}
    return render(request, "giftlists/gift_list_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def delete_gift_list(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask, saying what will be lost, then delete a list; its owner only.

    The question counts gifts only: the owner is never told whether any of
    them were claimed (those who claimed one are told, on their own pages).
    """
    shown = _own_list(request, pk, "delete")
    if request.method == "POST":
        try:
            services.delete_gift_list(request.user, shown)
        except NotPermitted as refused:
            raise PermissionDenied(refused.message) from None
        messages.success(request, f"“{shown.title}” was deleted.")
        return redirect("family", pk=shown.family_id)
    gifts = Gift.objects.filter(list_id=shown.pk).count()
    context = {"gift_list": shown, "family": shown.family, "gifts": gifts}
    return render(request, "giftlists/delete_gift_list.html", context)


@login_required
@require_POST
def archive_gift_list(request: HttpRequest, pk: int) -> HttpResponse:
    """Archive a list whose occasion is over (``archived=1``) or restore it."""
    shown = _own_list(request, pk, "archive")
    archived = request.POST.get("archived") == "1"
    try:
        services.set_archived(request.user, shown, archived)
    except NotPermitted as refused:
        raise PermissionDenied(refused.message) from None
    if archived:
        messages.success(request, "Archived: the list is kept as it is, read-only.")
    else:
        messages.success(request, "Restored: the list can change again.")
    return redirect("gift-list", pk=shown.pk)


def favicon(request: HttpRequest) -> HttpResponse:
    """``/favicon.ico``, which browsers ask for on pages that name no icon."""
    return HttpResponsePermanentRedirect(static("giftlists/favicon.svg"))
