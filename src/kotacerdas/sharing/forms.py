"""Forms of the sharing pages: the statement's month and party, and costs.

The forms check the shape of what was typed. `sharing.services` checks the
cost itself, and the views put its message on the field it names.
"""

import re
from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kotacerdas.levy.months import InvalidMonth, parse_month
from kotacerdas.pilot.models import Pilot
from kotacerdas.sharing.display import PARTY_LABELS
from kotacerdas.sharing.models import CostCategory
from kotacerdas.sharing.services import DESCRIPTION_MAX, REASON_MAX, CostInput
from kotacerdas.wallet.forms import AMOUNT_TEXT, AmountField


class StatementForm(forms.Form):
    month = forms.CharField(
        label=_("Month"),
        max_length=7,
        widget=forms.TextInput(
            attrs={"type": "month", "placeholder": "2026-11", "pattern": r"\d{4}-\d{2}"}
        ),
    )
    party = forms.ChoiceField(
        label=_("Party"), choices=list(PARTY_LABELS.items()), initial="city"
    )
    position = forms.IntegerField(
        label=_("Journal position"),
        required=False,
        min_value=0,
        help_text=_("Leave empty for the journal as it is now."),
    )

    def clean_month(self) -> date:
        try:
            return parse_month(self.cleaned_data["month"])
        except InvalidMonth as error:
            raise forms.ValidationError(error.message) from None


class RupiahField(AmountField):
    """A wallet amount field that also accepts 0, which withdraws a cost."""

    def clean(self, value: Any) -> int | None:
        text = forms.CharField.clean(self, value)
        if not text:
            return None
        match = AMOUNT_TEXT.fullmatch(text.strip())
        if match is None:
            raise forms.ValidationError(
                _("Enter the amount in whole rupiah, such as 1500000 or 1.500.000."),
                code="invalid",
            )
        return int(re.sub(r"[^0-9]", "", match["digits"]))


class CostForm(forms.Form):
    pilot = forms.ModelChoiceField(
        label=_("Pilot"),
        queryset=Pilot.objects.all(),
        empty_label=_("Choose a pilot"),
        error_messages={"required": _("Choose the pilot the cost belongs to.")},
    )
    category = forms.ChoiceField(label=_("Category"), choices=CostCategory.choices)
    incurred_on = forms.DateField(
        label=_("Date"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            "required": _("Enter the day the cost was incurred."),
            "invalid": _("Enter the date as YYYY-MM-DD, such as 2026-11-15."),
        },
    )
    amount_rupiah = RupiahField()
    description = forms.CharField(
        label=_("Description"),
        max_length=DESCRIPTION_MAX,
        help_text=_(
            "What the cost was for, such as 'replacement QR scanners'. Never"
            " names, NIK, KK or phone numbers."
        ),
    )

    def cost(self) -> CostInput:
        data = self.cleaned_data
        return CostInput(
            pilot=data["pilot"],
            category=data["category"],
            incurred_on=data["incurred_on"],
            amount_rupiah=data["amount_rupiah"],
            description=data["description"],
        )


class CorrectionForm(CostForm):
    reason = forms.CharField(
        label=_("Reason for the correction"),
        max_length=REASON_MAX,
        help_text=_("Why the entry is corrected, such as 'invoice amount mistyped'."),
    )

    def __init__(self, *args: Any, pilot: Pilot, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A correction keeps the pilot of the cost it replaces.
        field = self.fields["pilot"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Pilot.objects.filter(pk=pilot.pk)
        field.initial = pilot.pk
        field.disabled = True
        self.fields["amount_rupiah"].help_text = _("Enter 0 to withdraw the cost.")
