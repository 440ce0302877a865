"""Small helpers shared by the gift-list tests."""

from giftlists import services
from giftlists.models import Family, Gift, GiftList, Invitation, Membership


def snapshot() -> tuple:
    """Every domain row's values: equal snapshots mean nothing was written."""
    return (
        list(Family.objects.order_by("pk").values_list()),
        list(Membership.objects.order_by("pk").values_list()),
        list(GiftList.objects.order_by("pk").values_list()),
        list(Gift.objects.order_by("pk").values_list()),
        list(Invitation.objects.order_by("pk").values_list()),
    )


def join(user, family: Family, invited_by) -> Membership:
    """``user`` joins ``family`` the only way there is: ``invited_by`` invites
    them by name and they accept."""
    _, token = services.create_invitation(invited_by, family, user.get_username())
    membership, _ = services.accept_invitation(user, token)
    return membership
