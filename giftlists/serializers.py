"""How families, gift lists and gifts look over the wire (JSON-native).

The realtime layer serializes event payloads with these same classes and no
request in the context; it then redacts per recipient itself. With a request,
``GiftSerializer`` redacts for the list's owner on its own.
"""

import re
from decimal import Decimal
from typing import Any

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db.models import QuerySet
from rest_framework import serializers

from .models import Family, Gift, GiftList, Membership
from .redaction import is_list_owner, redact_gift_for_owner
from .selectors import families_for, gift_lists_for

#: An id as text (a path, a filter, a string in a body): ASCII digits only, as
#: many as a 64-bit key has. ``int()`` and Django read other scripts' digits as
#: numbers ("٣" is 3), so ``\d`` or ``isdigit()`` would let ``/api/gifts/٣/``
#: name gift 3.
ID_PATTERN = "[0-9]{1,19}"
ASCII_ID = re.compile(ID_PATTERN)


def _request_user(serializer_field: serializers.Field) -> Any:
    request = serializer_field.context.get("request")
    return getattr(request, "user", None)


class AsciiIdField(serializers.PrimaryKeyRelatedField):
    """A primary key given as a number or as ASCII digits: Django reads other
    scripts' digits as numbers ("٣" is 3), which no client means by an id."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str) and ASCII_ID.fullmatch(data) is None:
            self.fail("incorrect_type", data_type="str")
        return super().to_internal_value(data)


class VisibleFamilyField(AsciiIdField):
    """A family id that must name one of the requesting user's families."""

    def get_queryset(self) -> QuerySet[Family]:
        user = _request_user(self)
        if user is None:
            return Family.objects.none()
        return families_for(user).prefetch_related(None)


class VisibleGiftListField(AsciiIdField):
    """A gift-list id that must name a list of the requesting user's families."""

    def get_queryset(self) -> QuerySet[GiftList]:
        user = _request_user(self)
        if user is None:
            return GiftList.objects.none()
        return gift_lists_for(user)


class MemberSerializer(serializers.Serializer):
    """One member of a family: ``id`` is the user's id (the one ``DELETE
    /members/<user id>/`` takes), with their username, admin flag and join time.
    """

    id = serializers.IntegerField(source="user.id", read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)
    is_admin = serializers.BooleanField(read_only=True)
    joined_at = serializers.DateTimeField(read_only=True)


class MembershipSerializer(serializers.ModelSerializer):
    """One membership: which user joined which family, when, and as what."""

    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "family", "user", "username", "is_admin", "joined_at"]
        read_only_fields = fields


class FamilySerializer(serializers.ModelSerializer):
    """A family with its members in the order they joined."""

    members = MemberSerializer(source="memberships", many=True, read_only=True)

    class Meta:
        model = Family
        fields = ["id", "name", "currency", "members", "created_at"]
        read_only_fields = ["id", "currency", "members", "created_at"]


class InvitationCreateSerializer(serializers.Serializer):
    """The body of "invite": optionally, the only username that may accept.

    Absent, empty or null: anyone who has the link may accept. The name is
    checked for its form only, never against the accounts.
    """

    username = serializers.CharField(
        max_length=150,
        required=False,
        allow_blank=True,
        allow_null=True,
        validators=[UnicodeUsernameValidator()],
    )


class InvitationCreatedSerializer(serializers.Serializer):
    """A new invitation: its token and link, shown this once, and its expiry."""

    token = serializers.CharField(read_only=True)
    url = serializers.URLField(read_only=True)
    expires_at = serializers.DateTimeField(read_only=True)
    family = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True, allow_null=True)


class GiftListSerializer(serializers.ModelSerializer):
    """A gift list; ``family`` is set on creation and fixed afterwards."""

    family = VisibleFamilyField(queryset=Family.objects.all())
    owner_username = serializers.CharField(source="owner.username", read_only=True)

    class Meta:
        model = GiftList
        fields = [
            "id",
            "family",
            "owner",
            "owner_username",
            "title",
            "occasion_date",
            "description",
            "archived",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "owner", "archived", "created_at", "updated_at"]

    def validate_family(self, family: Family) -> Family:
        """Refuse moving an existing list to another family."""
        if self.instance is not None and family.pk != self.instance.family_id:
            raise serializers.ValidationError(
                "A list cannot be moved to another family."
            )
        return family


class GiftSerializer(serializers.ModelSerializer):
    """A gift; ``status`` and ``claimed_by`` change only through claims.

    With a request in the context whose user owns the gift's list, the
    representation is redacted (``redact_gift_for_owner``); without a request
    it is the full truth.
    """

    list = VisibleGiftListField(queryset=GiftList.objects.all())
    price = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0"),
        allow_null=True,
        required=False,
    )
    claimed_by_username = serializers.CharField(
        source="claimed_by.username", read_only=True, allow_null=True
    )

    class Meta:
        model = Gift
        fields = [
            "id",
            "list",
            "title",
            "url",
            "price",
            "notes",
            "status",
            "claimed_by",
            "claimed_by_username",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "status",
            "claimed_by",
            "created_at",
            "updated_at",
        ]

    def validate_list(self, gift_list: GiftList) -> GiftList:
        """Refuse moving an existing gift to another list."""
        if self.instance is not None and gift_list.pk != self.instance.list_id:
            raise serializers.ValidationError("A gift cannot be moved to another list.")
        return gift_list

    def to_representation(self, instance: Gift) -> dict[str, Any]:
        """The gift as the requesting user may see it (the truth without one)."""
        data = super().to_representation(instance)
        user = _request_user(self)
        if user is not None and is_list_owner(user, instance.list):
            return redact_gift_for_owner(data)
        return data
