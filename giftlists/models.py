"""Families, their gift lists, and the gifts members claim and buy."""

from django.conf import settings
from django.db import models


class Family(models.Model):
    """A group of people who share gift lists."""

    name = models.CharField(max_length=120)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="families"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "families"
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """One user's place in one family; a family admin may remove other members."""

    family = models.ForeignKey(
        Family, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    is_admin = models.BooleanField(
        default=False,
        help_text="Family admins may remove other members. The creator is one.",
    )
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["family", "user"], name="unique_membership")
        ]
        ordering = ["joined_at", "id"]

    def __str__(self) -> str:
        return f"{self.user} in {self.family}"


class GiftList(models.Model):
    """A wish list that one family member owns and the others shop from."""

    family = models.ForeignKey(
        Family, on_delete=models.CASCADE, related_name="gift_lists"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="gift_lists"
    )
    title = models.CharField(max_length=200)
    occasion_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.title} ({self.owner})"


class Gift(models.Model):
    """One wished-for gift; members claim it, then buy it."""

    class Status(models.TextChoices):
        WANTED = "wanted", "Wanted"
        CLAIMED = "claimed", "Claimed"
        PURCHASED = "purchased", "Purchased"

    list = models.ForeignKey(GiftList, on_delete=models.CASCADE, related_name="gifts")
    title = models.CharField(max_length=200)
    url = models.URLField(max_length=500, blank=True)
    price = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    notes = models.TextField(blank=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.WANTED, db_index=True
    )
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="claimed_gifts",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.title
