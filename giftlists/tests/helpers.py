"""Small helpers shared by the gift-list tests."""

from giftlists.models import Family, Gift, GiftList, Membership


def snapshot() -> tuple:
    """Every domain row's values: equal snapshots mean nothing was written."""
    return (
        list(Family.objects.order_by("pk").values_list()),
        list(Membership.objects.order_by("pk").values_list()),
        list(GiftList.objects.order_by("pk").values_list()),
        list(Gift.objects.order_by("pk").values_list()),
    )
