"""Gift lists on the realtime layer: which models broadcast, and who sees what.

Topics (PROTOCOL.md section 6):

- ``gift-list:<id>``: the list's own changes and all changes to its gifts;
  members of the list's family may follow it.
- ``family:<id>``: the family itself, its lists, and membership changes; members.
- ``user:<id>``: that user's own notifications: being added to a family, and
  ``GIFT_REMOVED`` when a gift they claimed or bought is deleted
  (``giftlists.notifications``).

The owner of a list never learns whether or by whom its gifts were claimed or
bought: gift events are redacted for the owner exactly as the REST API redacts
them, and ``STATUS_CHANGED`` events of the owner's own list are withheld.

The realtime app imports this module at start-up in every process. Each policy
names the models its answer reads (``depends_on``), so a member who leaves, or
a list that changes owner, is re-checked on open connections by the realtime
app itself.
"""

from typing import Any

import realtime

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
REFUSED_OWNER = object()  # no such (list, member) pair


def _as_int(identifier: str) -> int | None:
    digits = identifier.isascii() and identifier.isdigit()
    return int(identifier) if digits and len(identifier) < 19 else None


def _is_member(user: Any, family_id: Any) -> bool:
    return Membership.objects.filter(family_id=family_id, user_id=user.pk).exists()


@realtime.policy("gift-list")
class GiftListPolicy(realtime.TopicPolicy):
    """``gift-list:<id>``: family members; the owner sees no claims."""

    # The owner's view numbers only what the owner is shown: a claim, hidden
    # from the owner, takes no seq there and leaves no gap.
    views = (OWNER_VIEW, MEMBER_VIEW)
    # Joining or leaving a family changes who may follow; a list's owner
    # changes who gets the owner's view.
    depends_on = (Membership, GiftList)
    # "bob is typing a gift idea", "carol is editing this gift".
    client_events = ("typing", "editing")
    # Who else is looking at the list: everyone, the owner included.
    presence = True

    def presence_meta(self, user: Any) -> dict[str, Any]:
        name = user.get_full_name() or user.get_username()
        initials = "".join(part[0] for part in name.split()[:2]).upper()
        return {"name": name, "initials": initials or name[:1].upper()}

    def client_event_views(self, event: str, sender_view: str | None) -> tuple:
        # Members talk among themselves: nothing they say here, not even that
        # they are typing, may hint to the owner at a surprise.
        return (MEMBER_VIEW,)

    def has_permission(self, user: Any, identifier: str) -> bool:
        list_id = _as_int(identifier)
        return (
            list_id is not None
            and GiftList.objects.filter(
                pk=list_id, family__memberships__user_id=user.pk
            ).exists()
        )

    def view(self, user: Any, identifier: str) -> str:
        list_id = _as_int(identifier)
        owns = list_id is not None and (
            GiftList.objects.filter(pk=list_id, owner_id=user.pk).exists()
        )
        return OWNER_VIEW if owns else MEMBER_VIEW

    def view_if_permitted(self, user: Any, identifier: str) -> Any:
        # One query for both answers: every subscribe asks both.
        list_id = _as_int(identifier)
        if list_id is None:
            return realtime.REFUSED
        found = (
            GiftList.objects.filter(pk=list_id, family__memberships__user_id=user.pk)
            .values_list("owner_id")
            .first()
        )
        if found is None:
            return realtime.REFUSED
        return OWNER_VIEW if found[0] == user.pk else MEMBER_VIEW

    def views_if_permitted(self, pairs: list[tuple[Any, str]]) -> list[Any]:
        # A crowd subscribing at once: one query for all of them.
        list_ids = {_as_int(identifier) for _, identifier in pairs} - {None}
        rows = GiftList.objects.filter(
            pk__in=list_ids,
            family__memberships__user_id__in={user.pk for user, _ in pairs},
        ).values_list("pk", "family__memberships__user_id", "owner_id")
        owners = {(list_id, member): owner for list_id, member, owner in rows}
        views = []
        for user, identifier in pairs:
            owner = owners.get((_as_int(identifier), user.pk), REFUSED_OWNER)
            if owner is REFUSED_OWNER:
                views.append(realtime.REFUSED)
            else:
                views.append(OWNER_VIEW if owner == user.pk else MEMBER_VIEW)
        return views

    def present(self, event: dict[str, Any], view: str | None) -> dict[str, Any] | None:
        if view != OWNER_VIEW or event["data"]["entity_type"] != "gift":
            return event
        if event["event"] == realtime.STATUS_CHANGED:
            return None
        data = {
            **event["data"],
            "payload": redact_gift_for_owner(event["data"]["payload"]),
        }
        return {**event, "data": data}


@realtime.policy("family")
class FamilyPolicy(realtime.TopicPolicy):
    """``family:<id>``: members of that family."""

    depends_on = (Membership,)

    def has_permission(self, user: Any, identifier: str) -> bool:
        family_id = _as_int(identifier)
        return family_id is not None and _is_member(user, family_id)


@realtime.policy("user")
def user_topic(user: Any, identifier: str) -> bool:
    """``user:<id>``: that user only."""
    return identifier == str(user.pk)


realtime.register(
    Gift,
    topics=lambda gift: [f"gift-list:{gift.list_id}"],
    serializer=GiftSerializer,
    entity_type="gift",
    tenant=lambda gift: gift.list.family_id,
    status_field="status",
)
realtime.register(
    GiftList,
    topics=lambda gift_list: [
        f"gift-list:{gift_list.pk}",
        f"family:{gift_list.family_id}",
    ],
    serializer=GiftListSerializer,
    entity_type="gift-list",
    tenant=lambda gift_list: gift_list.family_id,
)
realtime.register(
    Family,
    topics=lambda family: [f"family:{family.pk}"],
    serializer=FamilySerializer,
    entity_type="family",
    tenant=lambda family: family.pk,
)
realtime.register(
    Membership,
    topics=lambda membership: [
        f"family:{membership.family_id}",
        f"user:{membership.user_id}",
    ],
    serializer=MembershipSerializer,
    entity_type="membership",
    tenant=lambda membership: membership.family_id,
)
