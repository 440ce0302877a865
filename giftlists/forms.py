"""The forms of the site's own pages: a family, an invitation, a gift list.

Field names are the model fields they set, so a ``ValidationError`` a service
raises lands on the field it names (``add_service_errors``).
"""

from django import forms
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError

from .models import Family, GiftList, Invitation


class FamilyForm(forms.Form):
    """A new family's name."""

    name = forms.CharField(
        max_length=Family._meta.get_field("name").max_length,
        help_text="What your family calls itself, e.g. “The Millers”.",
    )


class InvitationForm(forms.Form):
    """An invitation: optionally, the only username that may use it."""

    username = forms.CharField(
        label="Only for this username",
        max_length=Invitation._meta.get_field("username").max_length,
        required=False,
        validators=[UnicodeUsernameValidator()],
        help_text="Leave empty and anyone who has the link may join, once.",
    )


class GiftListForm(forms.Form):
    """A gift list: its title and, optionally, the occasion's day and a word
    for the family (sizes, where to send things)."""

    title = forms.CharField(
        max_length=GiftList._meta.get_field("title").max_length,
        help_text="E.g. “Sam's 8th birthday”.",
    )
    occasion_date = forms.DateField(
        label="Occasion date",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    description = forms.CharField(
        max_length=GiftList._meta.get_field("description").max_length,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Anything the family should know: sizes, where to send things.",
    )


class CurrencyForm(forms.Form):
    """The currency a family's prices are in."""

    currency = forms.CharField(
        label="Currency",
        max_length=3,
        help_text="A three-letter ISO 4217 code: EUR, GBP, USD, SEK…",
    )


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ``ValidationError`` on ``form``: on the field it names
    where the form has that field, else above the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)
