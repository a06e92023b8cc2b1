"""Forms of the levy pages.

The forms only shape the input, and `levy.services` validates amounts and
months. Its LevyErrors go back on the fields they name (`apply_errors`), so
a page and the API show the same message for the same mistake.
"""

import base64
import secrets
from collections.abc import Iterable
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from kotacerdas.city.models import Area
from kotacerdas.levy.models import Bill
from kotacerdas.levy.months import InvalidMonth, current_month, month_text, parse_month
from kotacerdas.levy.queries import STATUS_ARREARS, STATUS_UNPAID
from kotacerdas.levy.services import FieldError, profile_classes

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 25


def apply_errors(form: forms.Form, errors: Iterable[FieldError]) -> None:
    """Show each service error on the field it names, or above the form."""
    for error in errors:
        field = error.field if error.field in form.fields else None
        form.add_error(field, error.message)


class MonthInput(forms.TextInput):
    """A month picker on phones and browsers that have one; YYYY-MM text elsewhere."""

    input_type = "month"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(
            {"placeholder": "2026-12", "pattern": r"\d{4}-\d{2}", **(attrs or {})}
        )


def _month_field(label: Any, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=7,
        widget=MonthInput(),
        help_text=_("Year and month, such as 2026-12."),
    )


def _clean_month(value: str) -> Any:
    if not value:
        return None
    try:
        return parse_month(value)
    except InvalidMonth as error:
        raise forms.ValidationError(error.message) from None


def _new_transfer_id() -> str:
    # Base32 rather than a UUID's hex: about two hex UUIDs in a thousand hold
    # a run of exactly 16 digits, which the journal rejects as a possible NIK.
    return "levy-" + base64.b32encode(secrets.token_bytes(15)).decode()


class TariffForm(forms.Form):
    levy_class = forms.ChoiceField(label=_("Levy class"))
    monthly_amount = forms.CharField(
        label=_("Monthly amount (Rp)"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text=_("Whole rupiah, such as 7500. Zero means the class is not billed."),
    )
    valid_from = _month_field(_("Applies from"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        levy_class = cast(forms.ChoiceField, self.fields["levy_class"])
        levy_class.choices = [
            (code, f"{code} · {levy.label}") for code, levy in profile_classes().items()
        ]
        self.fields["valid_from"].initial = month_text(current_month())
        self.fields["valid_from"].help_text = _(
            "This month or a later one. Bills already issued keep their amount."
        )


class BillingForm(forms.Form):
    month = _month_field(_("Month to bill"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["month"].initial = month_text(current_month())


class ReportForm(forms.Form):
    month = _month_field(_("Month"), required=False)

    def clean_month(self) -> Any:
        return _clean_month(self.cleaned_data["month"])


STATUS_CHOICES = [
    ("", _("Any status")),
    (STATUS_UNPAID, _("Not fully paid")),
    (STATUS_ARREARS, _("In arrears (past months, not fully paid)")),
    *Bill.Status.choices,
]


class BillFilterForm(forms.Form):
    """Search and filters of the bill list and its downloads (a GET form)."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        help_text=_("Bill number or plate code."),
    )
    month = _month_field(_("Month"), required=False)
    kelurahan = forms.ModelChoiceField(
        label=_("Kelurahan"),
        required=False,
        queryset=Area.objects.exclude(level=Area.Level.KECAMATAN).order_by("name"),
        empty_label=_("All kelurahan"),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=STATUS_CHOICES
    )
    household = forms.IntegerField(
        required=False, min_value=1, widget=forms.HiddenInput
    )
    building = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    per_page = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_PAGE_SIZE, widget=forms.HiddenInput
    )

    def clean_month(self) -> Any:
        return _clean_month(self.cleaned_data["month"])

    def filters(self) -> dict[str, Any]:
        """Return the valid filters; an invalid field is left out, not applied."""
        self.is_valid()
        return {k: v for k, v in getattr(self, "cleaned_data", {}).items() if v}


class ArrearsForm(forms.Form):
    kelurahan = forms.ModelChoiceField(
        label=_("Kelurahan"),
        required=False,
        queryset=Area.objects.exclude(level=Area.Level.KECAMATAN).order_by("name"),
        empty_label=_("All kelurahan"),
    )


class CancelForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Reason"), choices=Bill.CancelReason.choices, widget=forms.RadioSelect
    )


class PayForm(forms.Form):
    """A citizen pays a bill from the wallet, confirming with the payment PIN."""

    amount = forms.CharField(
        label=_("Amount to pay (Rp)"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text=_("The whole bill, or part of it now and the rest later."),
    )
    pin = forms.CharField(
        label=_("Payment PIN"),
        max_length=6,
        widget=forms.PasswordInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "pattern": r"\d{6}"}
        ),
    )
    transfer_id = forms.CharField(
        max_length=64, widget=forms.HiddenInput, initial=_new_transfer_id
    )


class CounterSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Bill number or plate code"),
        max_length=500,
        help_text=_(
            "Such as RTB-202612-000123, or the code printed under the plate's QR code."
        ),
    )


class CounterPayForm(forms.Form):
    """A cashier takes cash for a bill."""

    amount = forms.CharField(
        label=_("Cash received (Rp)"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text=_("The whole bill, or part of it."),
    )
    transfer_id = forms.CharField(
        max_length=64, widget=forms.HiddenInput, initial=_new_transfer_id
    )
