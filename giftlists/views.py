"""Thin REST viewsets: querysets from selectors, writes through services."""

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from . import selectors, services
from .api_errors import DomainErrorsMixin
from .models import Family, Gift, GiftList, Invitation
from .pages import invitation_url
from .permissions import IsListOwnerToEdit, IsListOwnerToEditGift
from .serializers import (
    ASCII_ID,
    ID_PATTERN,
    FamilySerializer,
    GiftListSerializer,
    GiftSerializer,
    InvitationCreatedSerializer,
    InvitationCreateSerializer,
    MemberSerializer,
    MembershipSerializer,
)
from .throttles import InvitationAcceptThrottle, InvitationCreateThrottle

#: The largest id a filter accepts: the range of a 64-bit primary key.
MAX_ID = 2**63 - 1

#: Methods the API offers: partial updates only, no PUT.
HTTP_METHODS = ["get", "post", "patch", "delete", "head", "options"]

CONFLICT = OpenApiResponse(description="The gift cannot change state this way.")
NO_SUCH_INVITATION = OpenApiResponse(
    description="No invitation has this token, or it is for someone else."
)
INVITATION_GONE = OpenApiResponse(
    description="The invitation was used, has expired, or was withdrawn."
)


def id_filter(request: Request, name: str) -> int | None:
    """The positive integer query parameter ``name``, or ``None`` if absent.

    Anything else than a valid id answers 400 with an error on ``name``.
    """
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if ASCII_ID.fullmatch(raw) is None:
        raise serializers.ValidationError({name: ["A valid integer is required."]})
    field = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    try:
        return field.run_validation(raw)
    except serializers.ValidationError as exc:
        raise serializers.ValidationError({name: exc.detail}) from None


def _fake_view(view: Any) -> bool:
    # drf-spectacular builds the schema with an anonymous fake request.
    return getattr(view, "swagger_fake_view", False)


class FamilyViewSet(
    DomainErrorsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Families the user belongs to; any member may rename one or invite."""

    serializer_class = FamilySerializer
    permission_classes = [IsAuthenticated]
    http_method_names = HTTP_METHODS
    lookup_value_regex = ID_PATTERN
    queryset = Family.objects.none()

    def get_queryset(self) -> QuerySet[Family]:
        if _fake_view(self):
            return Family.objects.none()
        return selectors.families_for(self.request.user)

    def perform_create(self, serializer: FamilySerializer) -> None:
        serializer.instance = services.create_family(
            self.request.user, serializer.validated_data["name"]
        )

    def perform_update(self, serializer: FamilySerializer) -> None:
        family = serializer.instance
        if "name" in serializer.validated_data:
            family = services.rename_family(
                self.request.user, family, serializer.validated_data["name"]
            )
        serializer.instance = family

    @extend_schema(
        responses=MemberSerializer(many=True),
        summary="List the family's members in the order they joined",
    )
    @action(detail=True, methods=["get"])
    def members(self, request: Request, pk: str | None = None) -> Response:
        """The family's members, paginated like every other list."""
        family = self.get_object()
        page = self.paginate_queryset(selectors.members_of(family))
        return self.get_paginated_response(MemberSerializer(page, many=True).data)

    @extend_schema(
        request=InvitationCreateSerializer,
        responses={201: InvitationCreatedSerializer},
        summary="Invite someone to the family (they join when they accept)",
    )
    @action(detail=True, methods=["post"], throttle_classes=[InvitationCreateThrottle])
    def invitations(self, request: Request, pk: str | None = None) -> Response:
        """A new invitation's link; the same answer whether the username exists."""
        family = self.get_object()
        body = InvitationCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        invitation, token = services.create_invitation(
            request.user, family, body.validated_data.get("username")
        )
        created = {
            "token": token,
            "url": invitation_url(request, token),
            "expires_at": invitation.expires_at,
            "family": family.pk,
            "username": invitation.username or None,
        }
        return Response(
            InvitationCreatedSerializer(created).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        request=None,
        responses={204: None},
        parameters=[
            OpenApiParameter("user_id", OpenApiTypes.INT, OpenApiParameter.PATH)
        ],
        summary="Leave the family, or remove a member (family admins and staff)",
    )
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"members/(?P<user_id>[0-9]{1,18})",
        url_name="member",
    )
    def remove_member(
        self, request: Request, pk: str | None = None, user_id: str = ""
    ) -> Response:
        """Remove one member from the family."""
        family = self.get_object()
        user = get_object_or_404(get_user_model(), pk=int(user_id))
        services.remove_member(request.user, family, user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationViewSet(DomainErrorsMixin, viewsets.GenericViewSet):
    """Invitations, addressed by their token: accepting one joins its family."""

    permission_classes = [IsAuthenticated]
    http_method_names = HTTP_METHODS
    queryset = Invitation.objects.none()
    lookup_field = "token"
    # Any token reaches the view, which answers a malformed one with the same
    # JSON 404 as an unknown one.
    lookup_value_regex = "[^/]+"

    @extend_schema(
        request=None,
        parameters=[OpenApiParameter("token", OpenApiTypes.STR, OpenApiParameter.PATH)],
        responses={
            200: MembershipSerializer,
            201: MembershipSerializer,
            404: NO_SUCH_INVITATION,
            410: INVITATION_GONE,
        },
        summary="Accept an invitation: 201 on joining, 200 if already a member",
    )
    @action(detail=True, methods=["post"], throttle_classes=[InvitationAcceptThrottle])
    def accept(self, request: Request, token: str = "") -> Response:
        """Join the invitation's family as the signed-in user."""
        membership, joined = services.accept_invitation(request.user, token)
        return Response(
            MembershipSerializer(membership).data,
            status=status.HTTP_201_CREATED if joined else status.HTTP_200_OK,
        )


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "family", OpenApiTypes.INT, description="Only lists of this family."
            )
        ]
    ),
)
class GiftListViewSet(DomainErrorsMixin, viewsets.ModelViewSet):
    """Gift lists of the user's families; only a list's owner edits it."""

    serializer_class = GiftListSerializer
    permission_classes = [IsAuthenticated, IsListOwnerToEdit]
    http_method_names = HTTP_METHODS
    lookup_value_regex = ID_PATTERN
    queryset = GiftList.objects.none()

    def get_queryset(self) -> QuerySet[GiftList]:
        if _fake_view(self):
            return GiftList.objects.none()
        family_id = id_filter(self.request, "family") if self.action == "list" else None
        return selectors.gift_lists_for(self.request.user, family_id=family_id)

    def perform_create(self, serializer: GiftListSerializer) -> None:
        data = serializer.validated_data
        serializer.instance = services.create_gift_list(
            self.request.user,
            data["family"],
            data["title"],
            occasion_date=data.get("occasion_date"),
            description=data.get("description", ""),
        )

    def perform_update(self, serializer: GiftListSerializer) -> None:
        changes = dict(serializer.validated_data)
        changes.pop("family", None)  # validated as unchanged
        serializer.instance = services.update_gift_list(
            self.request.user, serializer.instance, **changes
        )

    def perform_destroy(self, instance: GiftList) -> None:
        services.delete_gift_list(self.request.user, instance)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "list", OpenApiTypes.INT, description="Only gifts of this list."
            )
        ]
    ),
)
class GiftViewSet(DomainErrorsMixin, viewsets.ModelViewSet):
    """Gifts on the lists of the user's families, and their claims.

    Members add gifts to any list of their family; the list's owner edits and
    deletes them. The owner always sees its gifts as wanted and unclaimed.
    """

    serializer_class = GiftSerializer
    permission_classes = [IsAuthenticated, IsListOwnerToEditGift]
    http_method_names = HTTP_METHODS
    lookup_value_regex = ID_PATTERN
    queryset = Gift.objects.none()

    def get_queryset(self) -> QuerySet[Gift]:
        if _fake_view(self):
            return Gift.objects.none()
        list_id = id_filter(self.request, "list") if self.action == "list" else None
        return selectors.gifts_for(self.request.user, list_id=list_id)

    def perform_create(self, serializer: GiftSerializer) -> None:
        data = serializer.validated_data
        serializer.instance = services.create_gift(
            self.request.user,
            data["list"],
            data["title"],
            url=data.get("url", ""),
            price=data.get("price"),
            notes=data.get("notes", ""),
        )

    def perform_update(self, serializer: GiftSerializer) -> None:
        changes = dict(serializer.validated_data)
        changes.pop("list", None)  # validated as unchanged
        serializer.instance = services.update_gift(
            self.request.user, serializer.instance, **changes
        )

    def perform_destroy(self, instance: Gift) -> None:
        services.delete_gift(self.request.user, instance)

    def _transition(self, change: Any) -> Response:
        gift = change(self.request.user, self.get_object())
        return Response(self.get_serializer(gift).data)

    @extend_schema(request=None, responses={200: GiftSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def claim(self, request: Request, pk: str | None = None) -> Response:
        """Claim a wanted gift (not on your own list)."""
        return self._transition(services.claim_gift)

    @extend_schema(request=None, responses={200: GiftSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def unclaim(self, request: Request, pk: str | None = None) -> Response:
        """Give up your claim on a gift: claimed back to wanted."""
        return self._transition(services.unclaim_gift)

    @extend_schema(request=None, responses={200: GiftSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def purchase(self, request: Request, pk: str | None = None) -> Response:
        """Mark a gift bought: one you claimed, or a wanted one in one step."""
        return self._transition(services.purchase_gift)
