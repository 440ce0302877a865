"""Server-rendered pages of the gift-list domain."""

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .models import GiftList
from .selectors import families_for


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
