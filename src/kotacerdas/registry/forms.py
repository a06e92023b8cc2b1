"""Forms of the registry pages.

The forms only shape the input, and `registry.services` validates it. Its
FieldErrors go back on the fields they name (`apply_errors`), so a page, the
API and the importer show the same message for the same mistake.
"""

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kotacerdas.registry.codes import InvalidCode, normalize_plate_code
from kotacerdas.registry.levy import levy_classes
from kotacerdas.registry.models import Building, Member, Plate
from kotacerdas.registry.queries import NO_LEVY_CLASS, kelurahan_choices
from kotacerdas.registry.services import REVOKE_REASONS, FieldError

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 25
MAX_MEMBERS = 20
BLANK_MEMBER_ROWS = 4

REVOKE_REASON_LABELS = {
    "damaged": _("Damaged"),
    "lost": _("Lost"),
    "copied": _("Copied or forged"),
    "demolished": _("Building demolished"),
    "reissued": _("Replaced by a new plate"),
    "other": _("Other"),
}
assert set(REVOKE_REASON_LABELS) == set(REVOKE_REASONS)


def apply_errors(form: forms.Form, errors: Iterable[FieldError]) -> None:
    """Show each service error on the field it names, or above the form."""
    for error in errors:
        field = error.field if error.field in form.fields else None
        form.add_error(field, error.message)


def _unit_number(value: str, label: str) -> str:
    value = value.strip()
    if not value:
        return ""
    if not value.isdecimal() or not 1 <= int(value) <= 999:
        raise forms.ValidationError(
            _("Enter the %(unit)s as a number from 1 to 999, such as 3."),
            params={"unit": label},
        )
    return value.zfill(3)


class BuildingFilterForm(forms.Form):
    """Search and filters of the building list and the map (a GET form)."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        help_text=_("Plate code or part of the street address."),
    )
    kelurahan = forms.ChoiceField(label=_("Kelurahan"), required=False)
    rw = forms.CharField(label=_("RW"), required=False, max_length=3)
    rt = forms.CharField(label=_("RT"), required=False, max_length=3)
    use = forms.ChoiceField(
        label=_("Use"),
        required=False,
        choices=[("", _("Any use")), *Building.Use.choices],
    )
    levy_class = forms.ChoiceField(label=_("Levy class"), required=False)
    plate_status = forms.ChoiceField(
        label=_("Plate"),
        required=False,
        choices=[
            ("", _("Any plate")),
            (Plate.Status.ISSUED, _("Issued, not yet installed")),
            (Plate.Status.INSTALLED, _("Installed")),
            (Plate.Status.REVOKED, _("Revoked, not replaced")),
        ],
    )
    status = forms.ChoiceField(
        label=_("Building status"),
        required=False,
        choices=[("", _("Any status")), *Building.Status.choices],
    )
    per_page = forms.IntegerField(label=_("Rows per page"), required=False, min_value=1)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        areas = kelurahan_choices(user)
        kelurahan = self.fields["kelurahan"]
        assert isinstance(kelurahan, forms.ChoiceField)
        kelurahan.choices = [("", _("All kelurahan"))] if len(areas) > 1 else []
        kelurahan.choices += [(area.code, area.name) for area in areas]
        levy = self.fields["levy_class"]
        assert isinstance(levy, forms.ChoiceField)
        levy.choices = [
            ("", _("Any class")),
            *[(c.code, f"{c.code} · {c.label}") for c in levy_classes()],
            (NO_LEVY_CLASS, _("No class")),
        ]

    def clean_rw(self) -> str:
        return _unit_number(self.cleaned_data["rw"], "RW")

    def clean_rt(self) -> str:
        return _unit_number(self.cleaned_data["rt"], "RT")

    def clean_per_page(self) -> int:
        # An oversized page is cut to the limit rather than refused, so a link
        # with ?per_page=1000 still shows something useful.
        return min(self.cleaned_data["per_page"] or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)

    def filters(self) -> dict[str, Any]:
        """Return the valid filter values (a field with an error filters nothing)."""
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value}


class BuildingForm(forms.Form):
    """A building's own fields; the services check values and ranges.

    No field is required here: `registry.services` reports a missing value
    together with every other problem, where a required field would stop
    the form before the services could list the rest.
    """

    use_required_attribute = False

    kelurahan_code = forms.ChoiceField(label=_("Kelurahan"), required=False)
    rw = forms.CharField(
        label=_("RW"),
        required=False,
        max_length=3,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    rt = forms.CharField(
        label=_("RT"),
        required=False,
        max_length=3,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    street_address = forms.CharField(
        label=_("Street address"),
        required=False,
        max_length=200,
        help_text=_("Such as Jl. Sudirman No. 12."),
    )
    use = forms.ChoiceField(
        label=_("Use"), required=False, choices=Building.Use.choices
    )
    lat = forms.CharField(
        label=_("Latitude"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text=_("Click the map to fill in latitude and longitude."),
    )
    lng = forms.CharField(
        label=_("Longitude"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    floors = forms.CharField(
        label=_("Floors"),
        required=False,
        initial="1",
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    floor_area_m2 = forms.CharField(
        label=_("Floor area (m²)"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    pln_va = forms.CharField(
        label=_("PLN connection (VA)"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        help_text=_(
            "The VA on the electricity meter, such as 1300; a house's levy class "
            "follows from it."
        ),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=Building.Status.choices,
        initial=Building.Status.ACTIVE,
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["kelurahan_code"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(area.code, area.name) for area in kelurahan_choices(user)]


class HouseholdForm(forms.Form):
    use_required_attribute = False

    kk_number = forms.CharField(
        label=_("KK number"),
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text=_("The 16 digits of the family card (Kartu Keluarga)."),
    )


class MemberForm(forms.Form):
    """One member; as with BuildingForm, the services report missing values."""

    use_required_attribute = False

    full_name = forms.CharField(label=_("Full name"), required=False, max_length=120)
    nik = forms.CharField(
        label=_("NIK"),
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    relation = forms.ChoiceField(
        label=_("Relation to head"),
        required=False,
        choices=[("", "—"), *Member.Relation.choices],
    )
    phone = forms.CharField(
        label=_("Phone"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )


MemberFormSet = forms.formset_factory(
    MemberForm,
    extra=BLANK_MEMBER_ROWS,
    max_num=MAX_MEMBERS,
    validate_max=True,
    absolute_max=MAX_MEMBERS,
)


class MoveHouseholdForm(forms.Form):
    plate_code = forms.CharField(
        label=_("Plate code of the new building"),
        max_length=30,
        help_text=_("As printed under the QR code, such as PPJ-B-7F3K9Q-C."),
    )

    def clean_plate_code(self) -> str:
        try:
            return normalize_plate_code(self.cleaned_data["plate_code"])
        except InvalidCode as error:
            raise forms.ValidationError(error.message) from None


class PlateForm(forms.Form):
    REISSUE = "reissue"
    REVOKE = "revoke"

    action = forms.ChoiceField(
        label=_("Action"),
        widget=forms.RadioSelect,
        choices=[
            (REISSUE, _("Revoke the plate and issue a new code")),
            (REVOKE, _("Only revoke the plate")),
        ],
        initial=REISSUE,
    )
    reason = forms.ChoiceField(
        label=_("Reason"), choices=list(REVOKE_REASON_LABELS.items())
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=150,
        help_text=_("Kept with the plate, not in the ledger."),
    )


class ConfirmForm(forms.Form):
    """A form with nothing to fill in: posting it confirms the action."""
