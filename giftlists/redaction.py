"""What the owner of a gift list may not learn: who claimed or bought its gifts.

Used by the REST serializers and by the realtime layer, which redacts event
payloads per recipient. Everything here is pure: no queries, no settings.
"""

from typing import Any

#: Fields of a serialized gift that reveal its claim, with what the owner sees.
#: ``updated_at`` is not among them: claims never touch it (see services).
OWNER_VIEW_OF_CLAIM_FIELDS: dict[str, Any] = {
    "status": "wanted",
    "claimed_by": None,
    "claimed_by_username": None,
}


def redact_gift_for_owner(data: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of a serialized gift as its list's owner may see it.

    The copy shows the gift as ``wanted`` with no claimer, whatever its real
    state; fields absent from ``data`` stay absent. ``data`` is not modified.
    """
    redacted = dict(data)
    for field, shown in OWNER_VIEW_OF_CLAIM_FIELDS.items():
        if field in redacted:
            redacted[field] = shown
    return redacted


def is_list_owner(user: Any, gift_list: Any) -> bool:
    """True if ``user`` owns ``gift_list``; anonymous users own nothing.

    ``gift_list`` may be a model instance or anything with an ``owner_id``.
    """
    user_id = getattr(user, "pk", None)
    return user_id is not None and user_id == getattr(gift_list, "owner_id", None)
