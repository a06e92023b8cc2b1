"""Forms of the pilot management pages; the services check every value."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kotacerdas.pilot.services import Scope, Service


class PilotForm(forms.Form):
    slug = forms.CharField(
        label=_("Slug"),
        max_length=40,
        help_text=_("Lowercase letters, digits and dashes, such as pilot-2027-q1."),
    )
    name = forms.CharField(label=_("Name"), max_length=120)
    starts_on = forms.CharField(
        label=_("Starts on"), help_text=_("First day of the trial, YYYY-MM-DD.")
    )
    ends_on = forms.CharField(
        label=_("Ends on"), help_text=_("Last day of the trial, YYYY-MM-DD.")
    )
    services = forms.MultipleChoiceField(
        label=_("Services switched on"),
        choices=Service.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    areas = forms.CharField(
        label=_("Areas"),
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        help_text=_(
            "One area a line: a kelurahan code (13.74.02.1006), a kelurahan and "
            "its RW (13.74.02.1006/3) or a kelurahan, RW and RT "
            "(13.74.02.1006/3/1)."
        ),
    )
    notes = forms.CharField(
        label=_("Notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def area_lines(self) -> list[str]:
        text = str(self.cleaned_data.get("areas") or "")
        return [line.strip() for line in text.splitlines() if line.strip()]


class GrowForm(forms.Form):
    areas = forms.CharField(
        label=_("Areas to add"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=PilotForm.base_fields["areas"].help_text,
    )

    def area_lines(self) -> list[str]:
        text = str(self.cleaned_data.get("areas") or "")
        return [line.strip() for line in text.splitlines() if line.strip()]


class ScopeForm(forms.Form):
    """One scope choice per service, named by the service code."""

    def __init__(self, *args: Any, scopes: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for code, label in Service.choices:
            self.fields[code] = forms.ChoiceField(
                label=label,
                choices=Scope.choices,
                initial=scopes.get(code, Scope.EVERYWHERE),
                widget=forms.RadioSelect,
            )
