"""Every write of the gift-list domain, each in one transaction.

Writes go through model ``save()`` and ``delete()`` (never ``QuerySet.update``)
so that the realtime layer's ``post_save``/``post_delete`` receivers see them.
Rule violations raise ``giftlists.exceptions`` errors; invalid values raise
Django's ``ValidationError`` keyed by field name. Staff users count as members
of every family.

People join a family only by accepting an invitation (``create_invitation``,
``accept_invitation``); the family's creator is its first admin, and only a
family admin (or staff) removes anyone but themselves.

The claim state machine::

    wanted --claim--> claimed --purchase--> purchased
    wanted <-unclaim- claimed
    wanted --purchase--> purchased   (claim and buy in one step)

Nobody may claim or buy a gift on their own list, and only the claimer may
unclaim or purchase a claimed gift. A purchased gift is final.
"""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from . import notifications, rules, selectors, tokens
from .currencies import validate_currency
from .exceptions import (
    InvitationGone,
    InvitationNotFound,
    NotAMember,
    NotPermitted,
    TransitionNotAllowed,
)
from .models import Family, Gift, GiftList, Invitation, Membership
from .redaction import is_list_owner

#: The only gift fields an edit may change; status and claimer move by claims.
EDITABLE_GIFT_FIELDS = frozenset({"title", "url", "price", "notes"})
#: The only gift-list fields an edit may change; family and owner are fixed.
EDITABLE_LIST_FIELDS = frozenset({"title", "occasion_date", "description"})


def _require_member(actor: AbstractBaseUser, family: Family) -> None:
    if not rules.is_member(actor, family):
        raise NotAMember()


def _require_open(gift_list: GiftList) -> None:
    # An archived list is a record of an occasion that is over: kept as it was.
    if gift_list.archived:
        raise NotPermitted("This list is archived: restore it to change it.")


def _apply_changes(
    instance: Any, changes: dict[str, Any], allowed: frozenset[str]
) -> list[str]:
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"These fields cannot be changed: {sorted(unknown)}")
    changed = []
    for field, value in changes.items():
        if getattr(instance, field) != value:
            setattr(instance, field, value)
            changed.append(field)
    return changed


# Families and their members


def create_family(user: AbstractBaseUser, name: str) -> Family:
    """Create a family named ``name`` with ``user`` as its first member and admin."""
    with transaction.atomic():
        family = Family(name=name)
        family.full_clean()
        family.save()
        Membership.objects.create(family=family, user=user, is_admin=True)
    return family


def rename_family(actor: AbstractBaseUser, family: Family, name: str) -> Family:
    """Rename ``family``; any member may."""
    with transaction.atomic():
        _require_member(actor, family)
        if family.name != name:
            family.name = name
            family.full_clean()
            family.save(update_fields=["name"])
    return family


def set_family_currency(
    actor: AbstractBaseUser, family: Family, currency: str
) -> Family:
    """Set the ISO 4217 code a family's prices are in; family admins only.

    Lower case is accepted ("gbp"); anything but an active code raises a
    ``ValidationError`` on ``currency``.
    """
    currency = (currency or "").strip().upper()
    try:
        validate_currency(currency)
    except ValidationError as error:
        raise ValidationError({"currency": error.messages}, code="invalid") from None
    with transaction.atomic():
        if not rules.is_family_admin(actor, family):
            raise NotPermitted("Only a family admin may change its currency.")
        if family.currency != currency:
            family.currency = currency
            family.save(update_fields=["currency"])
    return family


def _lock_members(family: Family) -> None:
    # Joining and leaving one family queue behind this row lock, so two admins
    # leaving at once, or a join racing the last admin's leave, cannot leave a
    # family with members but no admin. (SQLite serializes writers anyway.)
    Family.objects.select_for_update().filter(pk=family.pk).first()


def _keep_an_admin(family: Family) -> None:
    # A family whose last admin left gets its longest-standing member as admin:
    # otherwise nobody but staff could ever remove a member again.
    if Membership.objects.filter(family_id=family.pk, is_admin=True).exists():
        return
    successor = Membership.objects.filter(family_id=family.pk).first()
    if successor is not None:
        successor.is_admin = True
        successor.save(update_fields=["is_admin"])


def remove_member(
    actor: AbstractBaseUser, family: Family, user: AbstractBaseUser
) -> None:
    """Remove ``user`` from ``family``: anyone may leave; a family admin (or
    staff) may remove anyone.

    Lists the user owns stay in the family. When the last admin goes, the
    longest-standing remaining member becomes admin. Removing a non-member
    raises a ``ValidationError`` on ``user``.
    """
    with transaction.atomic():
        _lock_members(family)
        if not rules.can_remove_member(actor, family, user):
            raise NotPermitted("Only a family admin may remove other members.")
        membership = Membership.objects.filter(family=family, user=user).first()
        if membership is None:
            raise ValidationError(
                {"user": "This user is not a member of this family."},
                code="not_a_member",
            )
        membership.delete()
        if membership.is_admin:
            _keep_an_admin(family)


# Invitations


#: How long an invitation works unless ``GIFTLISTS_INVITATION_TTL`` says
#: otherwise: long enough to reach someone who reads mail weekly, short enough
#: that a forgotten link soon stops working.
DEFAULT_INVITATION_TTL = timedelta(days=7)


def invitation_ttl() -> timedelta:
    """How long a new invitation stays valid (the setting, read per call)."""
    return getattr(settings, "GIFTLISTS_INVITATION_TTL", DEFAULT_INVITATION_TTL)


def create_invitation(
    actor: AbstractBaseUser, family: Family, username: str | None = None
) -> tuple[Invitation, str]:
    """Invite someone to ``family``; any member may. Returns it and its token.

    The token exists only in this return value: the database keeps its hash,
    so the caller must hand it on now. With ``username`` only the user of that
    name may accept. The name is not looked up here, so the answer is the same
    whether or not such an account exists; naming someone who already belongs
    to the family raises a ``ValidationError`` on ``username``.
    """
    username = get_user_model().normalize_username(username or "")
    with transaction.atomic():
        _require_member(actor, family)
        token = tokens.new_token()
        now = timezone.now()
        invitation = Invitation(
            family=family,
            invited_by=actor,
            username=username,
            token_hash=tokens.hash_token(token),
            created_at=now,
            expires_at=now + invitation_ttl(),
        )
        invitation.full_clean()
        invitation.save()
    return invitation, token


def check_invitation_usable(invitation: Invitation) -> None:
    """Raise ``InvitationGone`` saying why ``invitation`` can no longer be used.

    Used first, then expired, then withdrawn: an invitation stops working once
    whoever sent it is neither a member of the family nor staff, so a member
    who leaves or is removed cannot come back, or let others in, through links
    they made.
    """
    if invitation.is_used:
        raise InvitationGone(
            "This invitation has already been used.", code="invitation_used"
        )
    if invitation.is_expired:
        raise InvitationGone(
            "This invitation has expired. Ask for a new one.",
            code="invitation_expired",
        )
    if not rules.is_member(invitation.invited_by, invitation.family):
        raise InvitationGone(
            "This invitation was withdrawn: whoever sent it has left the family.",
            code="invitation_withdrawn",
        )


def accept_invitation(user: AbstractBaseUser, token: str) -> tuple[Membership, bool]:
    """Make ``user`` a member of the family ``token`` invites to.

    Returns the membership and whether it is new. An unknown token, or one that
    names someone else, raises ``InvitationNotFound``; a used, expired or
    withdrawn one ``InvitationGone``. Someone who already belongs to the family
    gets their membership back and the invitation stays unused, so a member
    opening a link meant for someone else does not spend it.
    """
    with transaction.atomic():
        invitation = (
            selectors.invitations_for(user, token)
            .select_for_update(of=("self",))
            .first()
        )
        if invitation is None:
            raise InvitationNotFound()
        family = invitation.family
        _lock_members(family)
        membership = Membership.objects.filter(family=family, user=user).first()
        if membership is not None:
            return membership, False
        check_invitation_usable(invitation)
        # A family without an admin gets its longest-standing member as one;
        # someone joining a family that everyone left becomes its admin.
        _keep_an_admin(family)
        has_admin = Membership.objects.filter(family=family, is_admin=True).exists()
        membership = Membership.objects.create(
            family=family, user=user, is_admin=not has_admin
        )
        invitation.accepted_by = user
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_by", "accepted_at"])
    return membership, True


# Gift lists


def create_gift_list(
    actor: AbstractBaseUser,
    family: Family,
    title: str,
    occasion_date: date | None = None,
    description: str = "",
) -> GiftList:
    """Create a list in ``family`` owned by ``actor``, who must be a member."""
    with transaction.atomic():
        _require_member(actor, family)
        gift_list = GiftList(
            family=family,
            owner=actor,
            title=title,
            occasion_date=occasion_date,
            description=description or "",
        )
        gift_list.full_clean()
        gift_list.save()
    return gift_list


def update_gift_list(
    actor: AbstractBaseUser, gift_list: GiftList, **changes: Any
) -> GiftList:
    """Change ``title``, ``occasion_date`` and/or ``description`` of a list;
    only its owner may, and not while it is archived.

    Any other keyword raises ``TypeError``: family and owner never change.
    """
    with transaction.atomic():
        if not rules.can_manage_list(actor, gift_list):
            raise NotPermitted("Only the list's owner may change it.")
        _require_open(gift_list)
        changed = _apply_changes(gift_list, changes, EDITABLE_LIST_FIELDS)
        if changed:
            gift_list.full_clean()
            gift_list.save(update_fields=[*changed, "updated_at"])
    return gift_list


def set_archived(
    actor: AbstractBaseUser, gift_list: GiftList, archived: bool
) -> GiftList:
    """Archive a list whose occasion is over, or restore it; its owner only.

    An archived list is read-only: no gift is added, changed, claimed or
    deleted until it is restored.
    """
    with transaction.atomic():
        if not rules.can_manage_list(actor, gift_list):
            raise NotPermitted("Only the list's owner may archive it.")
        if gift_list.archived != archived:
            gift_list.archived = archived
            gift_list.save(update_fields=["archived", "updated_at"])
    return gift_list


def delete_gift_list(actor: AbstractBaseUser, gift_list: GiftList) -> None:
    """Delete a list and its gifts; only its owner may. Whoever claimed or
    bought one of its gifts is told (on their own topic only)."""
    with transaction.atomic():
        if not rules.can_manage_list(actor, gift_list):
            raise NotPermitted("Only the list's owner may delete it.")
        gifts = gift_list.gifts.select_related("list__owner")
        notifications.tell_claimers_of_removal(gifts.select_for_update(of=("self",)))
        gift_list.delete()


# Gifts


def create_gift(
    actor: AbstractBaseUser,
    gift_list: GiftList,
    title: str,
    url: str = "",
    price: Decimal | None = None,
    notes: str = "",
) -> Gift:
    """Add a ``wanted`` gift to ``gift_list``; any member of its family may."""
    with transaction.atomic():
        _require_member(actor, gift_list.family)
        _require_open(gift_list)
        gift = Gift(
            list=gift_list,
            title=title,
            url=url or "",
            price=price,
            notes=notes or "",
            status=Gift.Status.WANTED,
        )
        gift.full_clean()
        gift.save()
    return gift


def update_gift(actor: AbstractBaseUser, gift: Gift, **changes: Any) -> Gift:
    """Change ``title``, ``url``, ``price`` and/or ``notes`` of a gift.

    Only the list's owner may. Any other keyword (``status``, ``claimed_by``,
    ``list``) raises ``TypeError``: those change only through claims.
    """
    with transaction.atomic():
        if not rules.can_edit_gift(actor, gift):
            raise NotPermitted("Only the list's owner may change its gifts.")
        _require_open(gift.list)
        changed = _apply_changes(gift, changes, EDITABLE_GIFT_FIELDS)
        if changed:
            gift.full_clean()
            gift.save(update_fields=[*changed, "updated_at"])
    return gift


def delete_gift(actor: AbstractBaseUser, gift: Gift) -> None:
    """Delete a gift; only the list's owner may, whatever its claim state.

    Whoever claimed or bought it is told, on their own topic; the row is read
    again under a lock so a claim made a moment ago is not missed.
    """
    with transaction.atomic():
        if not rules.can_edit_gift(actor, gift):
            raise NotPermitted("Only the list's owner may delete its gifts.")
        _require_open(gift.list)
        locked = (
            Gift.objects.select_for_update(of=("self",))
            .select_related("list__owner")
            .filter(pk=gift.pk)
            .first()
        )
        if locked is None:
            return
        notifications.tell_claimers_of_removal([locked])
        locked.delete()


def _lock_for_transition(actor: AbstractBaseUser, gift: Gift, verb: str) -> Gift:
    # The row lock makes concurrent claims queue: the second one sees the first
    # one's result and is refused instead of overwriting it.
    locked = (
        Gift.objects.select_for_update(of=("self",))
        .select_related("list", "list__family", "claimed_by")
        .get(pk=gift.pk)
    )
    _require_member(actor, locked.list.family)
    if locked.list.archived:
        raise TransitionNotAllowed("This list is archived.", code="list_archived")
    # Checked before any state so the owner learns nothing about claims.
    if is_list_owner(actor, locked.list):
        raise TransitionNotAllowed(
            f"You cannot {verb} a gift on your own list.", code="own_list"
        )
    return locked


def _save_claim(gift: Gift) -> Gift:
    # Claims leave updated_at alone: it tracks edits of the gift's details, so
    # it tells the list's owner nothing about claims.
    gift.save(update_fields=["status", "claimed_by"])
    return gift


def claim_gift(actor: AbstractBaseUser, gift: Gift) -> Gift:
    """Claim a ``wanted`` gift for ``actor``; returns the gift as saved.

    Refused with ``TransitionNotAllowed`` on the actor's own list or when the
    gift is already claimed or purchased.
    """
    with transaction.atomic():
        gift = _lock_for_transition(actor, gift, "claim")
        if gift.status == Gift.Status.CLAIMED:
            raise TransitionNotAllowed(
                "This gift is already claimed.", code="already_claimed"
            )
        if gift.status == Gift.Status.PURCHASED:
            raise TransitionNotAllowed(
                "This gift has already been purchased.", code="already_purchased"
            )
        gift.status = Gift.Status.CLAIMED
        gift.claimed_by = actor
        return _save_claim(gift)


def unclaim_gift(actor: AbstractBaseUser, gift: Gift) -> Gift:
    """Give up ``actor``'s claim: ``claimed`` back to ``wanted``.

    Refused with ``TransitionNotAllowed`` unless the gift is claimed by
    ``actor``; a purchased gift cannot be unclaimed.
    """
    with transaction.atomic():
        gift = _lock_for_transition(actor, gift, "unclaim")
        if gift.status == Gift.Status.WANTED:
            raise TransitionNotAllowed("This gift is not claimed.", code="not_claimed")
        if gift.status == Gift.Status.PURCHASED:
            raise TransitionNotAllowed(
                "This gift has already been purchased.", code="already_purchased"
            )
        if gift.claimed_by_id != actor.pk:
            raise TransitionNotAllowed(
                "Only the person who claimed this gift may unclaim it.",
                code="not_claimer",
            )
        gift.status = Gift.Status.WANTED
        gift.claimed_by = None
        return _save_claim(gift)


def purchase_gift(actor: AbstractBaseUser, gift: Gift) -> Gift:
    """Mark a gift bought by ``actor``: ``claimed`` (by actor) or ``wanted``.

    Buying a ``wanted`` gift claims and buys it in one step, with ``actor`` as
    the claimer. Refused with ``TransitionNotAllowed`` on the actor's own list,
    when someone else claimed it, or when it is already purchased.
    """
    with transaction.atomic():
        gift = _lock_for_transition(actor, gift, "purchase")
        if gift.status == Gift.Status.PURCHASED:
            raise TransitionNotAllowed(
                "This gift has already been purchased.", code="already_purchased"
            )
        if gift.status == Gift.Status.CLAIMED and gift.claimed_by_id != actor.pk:
            raise TransitionNotAllowed(
                "Someone else has claimed this gift; only they may purchase it.",
                code="not_claimer",
            )
        gift.status = Gift.Status.PURCHASED
        gift.claimed_by = actor
        return _save_claim(gift)
