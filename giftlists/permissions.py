"""DRF permission classes: one rule each, answered by ``giftlists.rules``.

Reading is decided by the viewsets' querysets (non-members get 404); these
classes decide who may change what they can see.
"""

from typing import Any

from rest_framework import permissions
from rest_framework.request import Request

from . import rules


class IsListOwnerToEdit(permissions.BasePermission):
    """Only a gift list's owner (or staff) may edit or delete it."""

    message = "Only the list's owner may change or delete it."

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return rules.can_manage_list(request.user, obj)


class IsListOwnerToEditGift(permissions.BasePermission):
    """Only the owner of a gift's list (or staff) may edit or delete the gift.

    Claiming, unclaiming and purchasing are not edits: the claim rules decide.
    """

    message = "Only the list's owner may change or delete its gifts."
    claim_actions = frozenset({"claim", "unclaim", "purchase"})

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        if getattr(view, "action", None) in self.claim_actions:
            return True
        return rules.can_edit_gift(request.user, obj)
