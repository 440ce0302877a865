"""Reads scoped to the caller: only rows of families the user belongs to.

Staff users see every row. Each function returns a lazy queryset with the
related rows the serializers need already joined or prefetched.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Prefetch, Q, QuerySet

from .models import Family, Gift, GiftList, Invitation, Membership
from .tokens import MAX_TOKEN_LENGTH, hash_token

AnyUser = AbstractBaseUser | AnonymousUser


def families_for(user: AnyUser) -> QuerySet[Family]:
    """Families ``user`` is a member of (all for staff, none for anonymous)."""
    families = Family.objects.prefetch_related(
        Prefetch("memberships", queryset=Membership.objects.select_related("user"))
    )
    if not user.is_authenticated:
        return families.none()
    if user.is_staff:
        return families.all()
    return families.filter(memberships__user_id=user.pk)


def gift_lists_for(user: AnyUser, family_id: int | None = None) -> QuerySet[GiftList]:
    """Gift lists of ``user``'s families, optionally of one family only."""
    lists = GiftList.objects.select_related("owner", "family")
    if not user.is_authenticated:
        return lists.none()
    if not user.is_staff:
        lists = lists.filter(family__memberships__user_id=user.pk)
    if family_id is not None:
        lists = lists.filter(family_id=family_id)
    return lists


def gifts_for(user: AnyUser, list_id: int | None = None) -> QuerySet[Gift]:
    """Gifts on the lists of ``user``'s families, optionally of one list only."""
    gifts = Gift.objects.select_related("list", "claimed_by")
    if not user.is_authenticated:
        return gifts.none()
    if not user.is_staff:
        gifts = gifts.filter(list__family__memberships__user_id=user.pk)
    if list_id is not None:
        gifts = gifts.filter(list_id=list_id)
    return gifts


def members_of(family: Family) -> QuerySet[Membership]:
    """The memberships of ``family`` in the order people joined, with users."""
    return Membership.objects.filter(family_id=family.pk).select_related("user")


def invitations_for(user: AnyUser, token: str) -> QuerySet[Invitation]:
    """The invitation with ``token`` if ``user`` may accept it, in any state.

    Empty when no invitation has that token and when it names someone else:
    the two must look alike. Used and expired invitations are included, so
    that their owner can be told why they no longer work.
    """
    invitations = Invitation.objects.select_related("family", "invited_by")
    if not user.is_authenticated or not token or len(token) > MAX_TOKEN_LENGTH:
        return invitations.none()
    return invitations.filter(token_hash=hash_token(token)).filter(
        Q(username="") | Q(username=user.get_username())
    )
