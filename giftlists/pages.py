"""Server-rendered pages of the gift-list domain.

The pages render a shell; their scripts (``static/giftlists/``) load the data
over the REST API and keep it live with ``realtime.js``.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404, render
from django.templatetags.static import static

from .models import GiftList
from .selectors import families_for, gift_lists_for


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


def favicon(request: HttpRequest) -> HttpResponse:
    """``/favicon.ico``, which browsers ask for on pages that name no icon."""
    return HttpResponsePermanentRedirect(static("giftlists/favicon.svg"))
