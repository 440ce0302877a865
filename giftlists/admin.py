"""Admin for families, memberships, invitations, gift lists and gifts.

Admin edits save through the models, so the realtime layer broadcasts them like
any other change. The gift form keeps status and claimer consistent. Staff
create invitations here as members do over the API (the link is shown once)
and revoke them by deleting them.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Model
from django.http import HttpRequest
from django.utils.html import format_html

from . import services
from .models import Family, Gift, GiftList, Invitation, Membership
from .pages import invitation_url
from .signin import AdminSignInForm

# The admin's login says when sign-ins are throttled, as the login page does.
admin.site.login_form = AdminSignInForm


class MembershipInline(admin.TabularInline):
    """The members of a family, on the family's page."""

    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    readonly_fields = ["joined_at"]


class GiftAdminForm(forms.ModelForm):
    """A gift form that refuses a claim state the API could never produce."""

    url = forms.URLField(max_length=500, required=False, assume_scheme="https")

    class Meta:
        model = Gift
        fields = ["list", "title", "url", "price", "notes", "status", "claimed_by"]

    def clean(self) -> dict:
        """Wanted gifts have no claimer; claimed and purchased ones have one."""
        cleaned = super().clean()
        status = cleaned.get("status")
        claimed_by = cleaned.get("claimed_by")
        gift_list = cleaned.get("list") or getattr(self.instance, "list", None)
        if status == Gift.Status.WANTED and claimed_by is not None:
            self.add_error("claimed_by", "A wanted gift has no claimer.")
        if status in (Gift.Status.CLAIMED, Gift.Status.PURCHASED) and not claimed_by:
            self.add_error("claimed_by", "A claimed or purchased gift needs a claimer.")
        if (
            claimed_by is not None
            and gift_list is not None
            and claimed_by.pk == gift_list.owner_id
        ):
            self.add_error("claimed_by", "Nobody claims a gift on their own list.")
        return cleaned


class GiftInline(admin.TabularInline):
    """The gifts of a list, on the list's page."""

    model = Gift
    form = GiftAdminForm
    extra = 0
    fields = ["title", "url", "price", "status", "claimed_by"]
    autocomplete_fields = ["claimed_by"]


@admin.register(Family)
class FamilyAdmin(admin.ModelAdmin):
    """Families with their members inline."""

    list_display = ["name", "member_count", "currency", "created_at"]
    search_fields = ["name"]
    readonly_fields = ["created_at"]
    inlines = [MembershipInline]

    @admin.display(description="members")
    def member_count(self, family: Family) -> int:
        """How many people belong to the family."""
        return family.memberships.count()


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Who belongs to which family."""

    list_display = ["user", "family", "is_admin", "joined_at"]
    list_filter = ["is_admin", "family"]
    search_fields = ["user__username", "family__name"]
    autocomplete_fields = ["user", "family"]
    list_select_related = ["user", "family"]


@admin.register(GiftList)
class GiftListAdmin(admin.ModelAdmin):
    """Gift lists with their gifts inline."""

    # The family's name as text, not as a foreign key: Django keeps foreign-key
    # cells on one line, and a long family name would push the table past a
    # 1280-pixel screen.
    list_display = ["title", "owner", "family_name", "occasion_date", "archived"]
    list_filter = ["family", "archived"]
    search_fields = ["title", "owner__username", "family__name"]
    autocomplete_fields = ["owner", "family"]
    list_select_related = ["owner", "family"]
    date_hierarchy = "occasion_date"
    inlines = [GiftInline]

    @admin.display(description="family", ordering="family__name")
    def family_name(self, gift_list: GiftList) -> str:
        """The family's name, free to wrap."""
        return gift_list.family.name


@admin.register(Gift)
class GiftAdmin(admin.ModelAdmin):
    """Every gift, filterable by status and family."""

    form = GiftAdminForm
    # Five columns beside the filters fit a 1280-pixel screen; when it changed
    # is on the gift's page.
    list_display = ["title", "list_title", "status", "claimed_by", "price"]
    list_filter = ["status", "list__family"]
    search_fields = ["title", "notes", "list__title", "claimed_by__username"]
    autocomplete_fields = ["list", "claimed_by"]
    list_select_related = ["list", "list__owner", "claimed_by"]

    @admin.display(description="list", ordering="list__title")
    def list_title(self, gift: Gift) -> str:
        """The list as its title and owner, free to wrap (a foreign key is not)."""
        return str(gift.list)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Invitations: adding one shows its link once; deleting one revokes it.

    Nothing of an existing invitation can be changed: it is read-only.
    """

    list_display = ["__str__", "family", "invited_by", "state", "expires_at"]
    list_filter = ["family"]
    search_fields = [
        "username",
        "family__name",
        "invited_by__username",
        "accepted_by__username",
    ]
    autocomplete_fields = ["family"]
    list_select_related = ["family", "invited_by", "accepted_by"]
    shown_fields = [
        "family",
        "username",
        "invited_by",
        "state",
        "created_at",
        "expires_at",
        "accepted_by",
        "accepted_at",
    ]

    @admin.display(description="state")
    def state(self, invitation: Invitation) -> str:
        """Open, accepted (by whom) or expired."""
        if invitation.is_used:
            return f"accepted by {invitation.accepted_by or 'a deleted user'}"
        return "expired" if invitation.is_expired else "open"

    def get_fields(self, request: HttpRequest, obj: Model | None = None) -> list:
        return ["family", "username"] if obj is None else self.shown_fields

    def has_change_permission(
        self, request: HttpRequest, obj: Model | None = None
    ) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: Invitation, form: Any, change: bool
    ) -> None:
        """Create through the service (staff invite as members do); show the
        link this once, since only the token's hash is kept."""
        created, token = services.create_invitation(
            request.user, obj.family, obj.username
        )
        for field in Invitation._meta.concrete_fields:
            setattr(obj, field.attname, getattr(created, field.attname))
        obj._state.adding = False
        obj._state.db = created._state.db
        url = invitation_url(request, token)
        self.message_user(
            request,
            format_html(
                "Send this link to the person you invite. It is shown only "
                'this once: <a href="{}">{}</a>',
                url,
                url,
            ),
            messages.SUCCESS,
        )
