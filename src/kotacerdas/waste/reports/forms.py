"""Forms of citizen reports; the services check the values, forms only carry them."""

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kotacerdas.city.models import Area
from kotacerdas.waste.reports.models import Kind, Status
from kotacerdas.waste.reports.services import PHOTO_MAX_BYTES


class ReportForm(forms.Form):
    kind = forms.ChoiceField(label=_("What is the problem?"), choices=Kind.choices)
    description = forms.CharField(
        label=_("Description"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("What you saw and where exactly, e.g. next to the bridge."),
    )
    lat = forms.CharField(label=_("Latitude"), required=False)
    lng = forms.CharField(label=_("Longitude"), required=False)
    photo = forms.FileField(
        label=_("Photo"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )
    building_plate = forms.CharField(
        label=_("Building plate code"),
        required=False,
        help_text=_("Optional, e.g. PPJ-B-… from the plate on the house."),
    )
    container_plate = forms.CharField(
        label=_("Container plate code"),
        required=False,
        help_text=_("Optional, from the plate on the TPS container."),
    )
    # Set once the reporter has seen the nearby open reports and still files.
    file_anyway = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["photo"].help_text = gettext(
            "Optional. JPEG, PNG or WebP, at most %(limit)s MB."
        ) % {"limit": PHOTO_MAX_BYTES // 1_048_576}


def _staff() -> QuerySet:
    permission = Q(
        groups__permissions__codename="handle_report",
        groups__permissions__content_type__app_label="wastereports",
    )
    return (
        get_user_model()
        .objects.filter(permission | Q(is_superuser=True), is_active=True)
        .distinct()
        .order_by("username")
    )


class UpdateForm(forms.Form):
    # Both staff forms share one page, so each has a prefix for distinct ids.
    prefix = "update"

    status = forms.ChoiceField(label=_("New status"), choices=Status.choices)
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    public = forms.BooleanField(
        label=_("Show this note to the reporter"), required=False, initial=True
    )
    duplicate_of = forms.IntegerField(
        label=_("Duplicate of report number"), required=False, min_value=1
    )


class AssignForm(forms.Form):
    prefix = "assign"

    assignee = forms.ModelChoiceField(label=_("Assign to"), queryset=_staff())
    note = forms.CharField(label=_("Note"), required=False)
    public = forms.BooleanField(
        label=_("Show this note to the reporter"), required=False, initial=False
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["assignee"].queryset = _staff()  # type: ignore[attr-defined]


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All open")), ("all", _("All")), *Status.choices],
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All")), *Kind.choices]
    )
    kelurahan = forms.ModelChoiceField(
        label=_("Kelurahan"),
        required=False,
        queryset=Area.objects.exclude(level="kecamatan").order_by("name"),
        to_field_name="code",
    )
    overdue = forms.BooleanField(label=_("Only past the SLA"), required=False)
