"""Telling people, on their own ``user:<id>`` topic, what happened to them.

Only the person concerned follows ``user:<id>``, so a notification that a gift
someone claimed was deleted reaches that person alone: the list's owner, who
deleted it, learns nothing about who had claimed it.
"""

from collections.abc import Iterable

import realtime

from .models import Gift

#: The event a claimer or buyer gets when the gift is deleted.
GIFT_REMOVED = "GIFT_REMOVED"
ENTITY_TYPE = "notification"


def claimed_gifts(gifts: Iterable[Gift]) -> list[Gift]:
    """The gifts of ``gifts`` that someone claimed or bought."""
    return [
        gift
        for gift in gifts
        if gift.status != Gift.Status.WANTED and gift.claimed_by_id is not None
    ]


def tell_claimers_of_removal(gifts: Iterable[Gift]) -> None:
    """Tell whoever claimed or bought each of ``gifts`` that it is gone.

    Call inside the transaction that deletes them: the notice is sent only if
    it commits.
    """
    for gift in claimed_gifts(gifts):
        realtime.publish(
            [f"user:{gift.claimed_by_id}"],
            GIFT_REMOVED,
            entity_type=ENTITY_TYPE,
            entity_id=gift.pk,
            payload={
                "id": gift.pk,
                "title": gift.title,
                "status": gift.status,
                "list": gift.list_id,
                "list_title": gift.list.title,
                "list_owner": gift.list.owner.get_username(),
            },
            tenant_id=gift.list.family_id,
        )
