"""Gift lists on the realtime layer: which models broadcast, and who sees what.

Topics (PROTOCOL.md section 6):

- ``gift-list:<id>``: the list's own changes and all changes to its gifts;
  members of the list's family may follow it.
- ``family:<id>``: the family itself, its lists, and membership changes; members.
- ``user:<id>``: that user's own notifications (being added to a family).

The owner of a list never learns whether or by whom its gifts were claimed or
bought: gift events are redacted for the owner exactly as the REST API redacts
them, and ``STATUS_CHANGED`` events of the owner's own list are withheld.
"""

from collections.abc import Hashable
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save

from realtime.broadcast import reauthorize_users
from realtime.events import STATUS_CHANGED
from realtime.permissions import TopicPolicy, register_policy
from realtime.registry import register

from .models import Family, Gift, GiftList, Membership
from .redaction import redact_gift_for_owner
from .serializers import (
    FamilySerializer,
    GiftListSerializer,
    GiftSerializer,
    MembershipSerializer,
)

OWNER_VIEW = "owner"
MEMBER_VIEW = "member"


def _as_int(identifier: str) -> int | None:
    return int(identifier) if identifier.isdigit() and len(identifier) < 19 else None


def _is_member(user: Any, family_id: Any) -> bool:
    return Membership.objects.filter(family_id=family_id, user_id=user.pk).exists()


class GiftListPolicy(TopicPolicy):
    """``gift-list:<id>``: family members; the owner sees no claims."""

    def has_permission(self, user: Any, identifier: str) -> bool:
        list_id = _as_int(identifier)
        return (
            list_id is not None
            and GiftList.objects.filter(
                pk=list_id, family__memberships__user_id=user.pk
            ).exists()
        )

    def view(self, user: Any, identifier: str) -> Hashable:
        list_id = _as_int(identifier)
        owns = list_id is not None and (
            GiftList.objects.filter(pk=list_id, owner_id=user.pk).exists()
        )
        return OWNER_VIEW if owns else MEMBER_VIEW

    def present(self, event: dict[str, Any], view: Hashable) -> dict[str, Any] | None:
        if view != OWNER_VIEW or event["data"]["entity_type"] != "gift":
            return event
        if event["event"] == STATUS_CHANGED:
            return None
        data = {
            **event["data"],
            "payload": redact_gift_for_owner(event["data"]["payload"]),
        }
        return {**event, "data": data}


class FamilyPolicy(TopicPolicy):
    """``family:<id>``: members of that family."""

    def has_permission(self, user: Any, identifier: str) -> bool:
        family_id = _as_int(identifier)
        return family_id is not None and _is_member(user, family_id)


class UserPolicy(TopicPolicy):
    """``user:<id>``: that user only."""

    def has_permission(self, user: Any, identifier: str) -> bool:
        return identifier == str(user.pk)


register(
    Gift,
    topics=lambda gift: [f"gift-list:{gift.list_id}"],
    serializer=GiftSerializer,
    entity_type="gift",
    tenant=lambda gift: gift.list.family_id,
    status_field="status",
)
register(
    GiftList,
    topics=lambda gift_list: [
        f"gift-list:{gift_list.pk}",
        f"family:{gift_list.family_id}",
    ],
    serializer=GiftListSerializer,
    entity_type="gift-list",
    tenant=lambda gift_list: gift_list.family_id,
)
register(
    Family,
    topics=lambda family: [f"family:{family.pk}"],
    serializer=FamilySerializer,
    entity_type="family",
    tenant=lambda family: family.pk,
)
register(
    Membership,
    topics=lambda membership: [
        f"family:{membership.family_id}",
        f"user:{membership.user_id}",
    ],
    serializer=MembershipSerializer,
    entity_type="membership",
    tenant=lambda membership: membership.family_id,
)

register_policy("gift-list", GiftListPolicy())
register_policy("family", FamilyPolicy())
register_policy("user", UserPolicy())


def _membership_removed(sender: Any, instance: Membership, **kwargs: Any) -> None:
    # A member who leaves stops receiving the family's topics on open sockets.
    reauthorize_users([instance.user_id])


def _user_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if not created and not instance.is_active:
        reauthorize_users([instance.pk])


post_delete.connect(
    _membership_removed, sender=Membership, dispatch_uid="giftlists.membership_removed"
)
post_save.connect(
    _user_saved, sender=get_user_model(), dispatch_uid="giftlists.user_deactivated"
)
