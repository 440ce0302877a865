"""Families, their gift lists, and the gifts members claim and buy."""

from django.conf import settings
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from .currencies import default_currency, validate_currency


class Family(models.Model):
    """A group of people who share gift lists."""

    name = models.CharField(max_length=120)
    currency = models.CharField(
        max_length=3,
        default=default_currency,
        validators=[validate_currency],
        help_text="The ISO 4217 code prices on this family's lists are in.",
    )
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


class Invitation(models.Model):
    """A single-use link that lets one person join a family, if they accept.

    Only a hash of the token is stored: the link is shown once, to whoever
    invites. With a ``username`` only the user of that name may accept; the
    name is matched when accepting, so inviting tells nothing about accounts.
    """

    family = models.ForeignKey(
        Family, on_delete=models.CASCADE, related_name="invitations"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="invitations_sent",
    )
    username = models.CharField(
        max_length=150,
        blank=True,
        validators=[UnicodeUsernameValidator()],
        help_text="Only this user may accept. Empty: anyone with the link.",
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitations_accepted",
    )
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        who = self.username or "anyone with the link"
        return f"Invitation to {self.family} for {who}"

    @property
    def is_used(self) -> bool:
        """True once someone has accepted it."""
        return self.accepted_at is not None

    @property
    def is_expired(self) -> bool:
        """True once ``expires_at`` has passed."""
        return self.expires_at <= timezone.now()

    def clean(self) -> None:
        """Refuse inviting, by name, someone who already belongs to the family.

        Whoever invites is a member and sees the members anyway, so this tells
        nothing about accounts outside the family.
        """
        super().clean()
        if self.username and self.family_id is not None:
            already = Membership.objects.filter(
                family_id=self.family_id, user__username=self.username
            )
            if already.exists():
                message = f"{self.username} is already a member of this family."
                raise ValidationError({"username": message}, code="already_member")


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
    description = models.TextField(max_length=2000, blank=True)
    archived = models.BooleanField(
        default=False,
        help_text="An occasion that is over: shown apart, and read-only.",
    )
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
