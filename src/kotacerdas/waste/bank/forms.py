"""Forms of the teller pages; `waste.bank.services` validates the values."""

import uuid
from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kotacerdas.waste.bank.models import Deposit, Offtaker
from kotacerdas.waste.bank.services import BankError, FieldError, parse_weight_g
from kotacerdas.waste.models import Material

# Rows on the deposit and sale forms; a member rarely brings more materials.
LINE_ROWS = 6
WEIGHT_UNITS = (("kg", "kg"), ("g", "g"))


def apply_errors(form: forms.Form, errors: Iterable[FieldError]) -> None:
    """Show each service error on the field it names, or above the form."""
    for error in errors:
        name = error.field.replace("items-", "weight_")
        field = name if name in form.fields else None
        form.add_error(field, error.message)


def new_client_id() -> str:
    return uuid.uuid4().hex


def _material_choices(codes: Iterable[str]) -> list[tuple[str, str]]:
    labels = {m.code: m.label for m in Material.objects.filter(code__in=list(codes))}
    return [("", "—")] + [(code, labels[code]) for code in sorted(labels)]


class LinesForm(forms.Form):
    """Rows of material and weight, with a request id for idempotency."""

    client_id = forms.CharField(widget=forms.HiddenInput, max_length=40)
    weight_unit = forms.ChoiceField(
        label=_("Weights in"), choices=WEIGHT_UNITS, initial="kg"
    )

    def __init__(self, *args: Any, materials: Iterable[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = _material_choices(materials)
        for row in range(LINE_ROWS):
            self.fields[f"material_{row}"] = forms.ChoiceField(
                label=_("Material"), choices=choices, required=False
            )
            self.fields[f"weight_{row}"] = forms.CharField(
                label=_("Weight"),
                required=False,
                max_length=12,
                widget=forms.TextInput(attrs={"inputmode": "decimal"}),
            )

    def rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"material_{r}"], self[f"weight_{r}"]) for r in range(LINE_ROWS)]

    def lines(self) -> list[tuple[str, int]]:
        """Return (material code, grams) of the filled rows; raise BankError."""
        lines = []
        errors = []
        for row in range(LINE_ROWS):
            code = self.cleaned_data.get(f"material_{row}") or ""
            weight = (self.cleaned_data.get(f"weight_{row}") or "").strip()
            if not code and not weight:
                continue
            if not code:
                errors.append(FieldError(f"weight_{row}", str(_("Choose a material."))))
                continue
            try:
                grams = parse_weight_g(weight, self.cleaned_data["weight_unit"])
            except BankError as error:
                errors.append(FieldError(f"weight_{row}", error.message))
                continue
            lines.append((code, grams))
        if errors:
            raise BankError(errors)
        return lines


class ValidateForm(forms.Form):
    rejected = forms.MultipleChoiceField(
        label=_("Items that failed sorting"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    reason = forms.ChoiceField(
        label=_("Reason, when rejecting"),
        required=False,
        choices=[("", "—")]
        + [c for c in Deposit.Reason.choices if c[0] != Deposit.Reason.EXPIRED],
    )

    def __init__(self, *args: Any, deposit: Deposit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rejected"].choices = [  # type: ignore[attr-defined]
            (str(position), f"{item.material.label} · {item.weight_g} g")
            for position, item in enumerate(deposit.items.order_by("id"))
        ]


class PriceListForm(forms.Form):
    valid_from = forms.DateField(
        label=_("Valid from"),
        # A type=date input takes only an ISO value, whatever the page's language.
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        initial=timezone.localdate,
    )

    def __init__(self, *args: Any, current: dict[str, int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for material in Material.objects.filter(active=True).order_by("code"):
            self.fields[f"price_{material.code}"] = forms.IntegerField(
                label=material.label,
                required=False,
                min_value=1,
                initial=current.get(material.code),
                help_text=_("Rupiah per kg; leave empty if the unit does not buy it."),
            )

    def prices(self) -> dict[str, int]:
        return {
            name.removeprefix("price_"): value
            for name, value in self.cleaned_data.items()
            if name.startswith("price_") and value
        }


class OfftakerForm(forms.Form):
    business_name = forms.CharField(label=_("Business name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=Offtaker.Kind.choices)


class SaleForm(forms.Form):
    client_id = forms.CharField(widget=forms.HiddenInput, max_length=40)
    offtaker = forms.ModelChoiceField(
        label=_("Buyer"), queryset=Offtaker.objects.none()
    )
    material = forms.ChoiceField(label=_("Material"))
    weight = forms.CharField(
        label=_("Weight (kg)"),
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    price_per_kg = forms.IntegerField(label=_("Price per kg (Rp)"), min_value=1)

    def __init__(self, *args: Any, unit: Any, stock: dict[str, int], **kwargs: Any):
        super().__init__(*args, **kwargs)
        offtakers = Offtaker.objects.filter(unit=unit, active=True)
        self.fields["offtaker"].queryset = offtakers  # type: ignore[attr-defined]
        self.fields["material"].choices = _material_choices(stock)  # type: ignore[attr-defined]
