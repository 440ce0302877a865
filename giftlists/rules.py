"""Yes/no answers to "may this user do that?", shared by services and views.

Staff users count as members of every family. These functions never raise; the
services turn a "no" into a domain error and the views into a 403.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from .models import Family, Gift, GiftList, Membership
from .redaction import is_list_owner

AnyUser = AbstractBaseUser | AnonymousUser


def is_member(user: AnyUser, family: Family) -> bool:
    """True if ``user`` belongs to ``family`` or is staff."""
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    return Membership.objects.filter(family_id=family.pk, user_id=user.pk).exists()


def is_family_admin(user: AnyUser, family: Family) -> bool:
    """True if ``user`` is an admin of ``family`` or staff."""
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    return Membership.objects.filter(
        family_id=family.pk, user_id=user.pk, is_admin=True
    ).exists()


def can_manage_list(user: AnyUser, gift_list: GiftList) -> bool:
    """True if ``user`` may edit or delete ``gift_list`` (its owner, or staff)."""
    return user.is_authenticated and (user.is_staff or is_list_owner(user, gift_list))


def can_edit_gift(user: AnyUser, gift: Gift) -> bool:
    """True if ``user`` may edit or delete ``gift`` (its list's owner, or staff)."""
    return can_manage_list(user, gift.list)


def can_remove_member(actor: AnyUser, family: Family, user: AnyUser) -> bool:
    """True if ``actor`` may remove ``user`` from ``family``.

    Members may leave (remove themselves); a family admin, or staff, may remove
    anyone.
    """
    if not actor.is_authenticated:
        return False
    if actor.pk == user.pk:
        return is_member(actor, family)
    return is_family_admin(actor, family)
