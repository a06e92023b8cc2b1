"""Forms of the places pages: they shape the input, the places services check it.

Fields are mostly plain text or choices, because `waste.places` validates
every value and its `FieldError`s go back on the fields they name
(`registry.forms.apply_errors`), so a page and the demo get the same message
for the same mistake.
"""

from typing import Any

from django import forms
from django.db.models import F, QuerySet
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from kotacerdas.city.models import Area
from kotacerdas.waste.models import (
    Container,
    Crew,
    Schedule,
    Site,
    SortingGroup,
    Vehicle,
)
from kotacerdas.waste.places import CONTAINER_SITE_KINDS
from kotacerdas.waste.places_crews import collectors

WEEKDAY_CHOICES = [(str(day), WEEKDAYS[day - 1]) for day in range(1, 8)]
TIME_INPUT = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def kelurahan_choices(blank: str | None) -> list[tuple[str, str]]:
    areas = Area.objects.filter(level=Area.Level.KELURAHAN).order_by("name")
    choices = [(area.code, area.name) for area in areas]
    return [("", blank), *choices] if blank is not None else choices


def _text(label: Any, required: bool = True, **kwargs: Any) -> forms.CharField:
    return forms.CharField(label=label, required=required, **kwargs)


def _set_choices(form: forms.Form, name: str, choices: list[tuple[Any, Any]]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


class SiteForm(forms.Form):
    code = _text(
        _("Code"),
        help_text=_("Lowercase letters, digits and dashes, such as tps-pasar-baru-1."),
    )
    name = _text(_("Name"))
    kind = forms.ChoiceField(label=_("Kind"), choices=Site.Kind.choices)
    kelurahan_code = forms.ChoiceField(label=_("Kelurahan"), required=False)
    address = _text(_("Address"), required=False)
    lat = _text(_("Latitude"), help_text=_("Degrees, such as -0.4725."))
    lng = _text(_("Longitude"), help_text=_("Degrees, such as 100.4023."))
    service_minutes = _text(
        _("Service time (minutes)"), help_text=_("Minutes a vehicle spends here.")
    )
    opens_at = forms.TimeField(label=_("Opens at"), required=False, widget=TIME_INPUT)
    closes_at = forms.TimeField(label=_("Closes at"), required=False, widget=TIME_INPUT)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(
            self,
            "kelurahan_code",
            kelurahan_choices(str(_("None (serves the whole city)"))),
        )


class ContainerForm(forms.Form):
    site_id = forms.ChoiceField(label=_("TPS"))
    name = _text(_("Name"))
    volume_m3 = _text(_("Volume (m³)"))
    max_load_kg = _text(_("Maximum load (kg)"))
    stored_waste_kind = forms.ChoiceField(
        label=_("Stored waste"), choices=SortingGroup.choices
    )
    fill_threshold = _text(
        _("Fill threshold"),
        help_text=_("Fraction from 0.05 to 1 above which it is due, such as 0.8."),
    )
    service_minutes = _text(_("Service time (minutes)"))
    sensor_id = _text(
        _("Sensor id"),
        required=False,
        help_text=_("The fill sensor's device id; blank without a sensor."),
    )
    lat = _text(
        _("Latitude"), required=False, help_text=_("Blank takes the TPS's location.")
    )
    lng = _text(_("Longitude"), required=False)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sites = Site.objects.filter(
            kind__in=CONTAINER_SITE_KINDS, active=True
        ).order_by("name")
        _set_choices(self, "site_id", [(str(site.pk), site.name) for site in sites])


class VehicleForm(forms.Form):
    plate_number = _text(
        _("Number plate"), help_text=_("As printed, such as BA 8123 PP.")
    )
    kind = forms.ChoiceField(label=_("Type"), choices=Vehicle.Kind.choices)
    capacity_kg = _text(_("Capacity (kg)"))
    capacity_m3 = _text(_("Capacity (m³)"))
    depot_id = forms.ChoiceField(label=_("Depot"))
    status = forms.ChoiceField(label=_("Status"), choices=Vehicle.Status.choices)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        depots = Site.objects.filter(kind=Site.Kind.DEPOT, active=True).order_by("name")
        _set_choices(self, "depot_id", [(str(site.pk), site.name) for site in depots])


class VehicleStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Vehicle.Status.choices)


class CrewForm(forms.Form):
    name = _text(_("Name"))
    vehicle_id = forms.ChoiceField(label=_("Vehicle"), required=False)
    member_ids = forms.MultipleChoiceField(
        label=_("Collectors"), required=False, widget=forms.CheckboxSelectMultiple
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        vehicles = Vehicle.objects.filter(active=True).order_by("plate_number")
        _set_choices(
            self,
            "vehicle_id",
            [
                ("", _("No vehicle")),
                *[
                    (str(v.pk), f"{v.plate_number} · {v.get_kind_display()}")
                    for v in vehicles
                ],
            ],
        )
        _set_choices(
            self,
            "member_ids",
            [
                (str(user.pk), user.username)
                for user in collectors().order_by("username")
            ],
        )


class ScheduleForm(forms.Form):
    kelurahan_code = forms.ChoiceField(label=_("Kelurahan"))
    rw = _text(
        _("RW"), required=False, help_text=_("Blank serves the whole kelurahan.")
    )
    rt = _text(_("RT"), required=False, help_text=_("Blank serves the whole RW."))
    service = forms.ChoiceField(label=_("Service"), choices=Schedule.Service.choices)
    weekdays = forms.MultipleChoiceField(
        label=_("Weekdays"),
        required=False,
        choices=WEEKDAY_CHOICES,
        widget=forms.CheckboxSelectMultiple,
    )
    shift_start = forms.TimeField(
        label=_("Shift starts"), required=False, widget=TIME_INPUT
    )
    shift_end = forms.TimeField(
        label=_("Shift ends"), required=False, widget=TIME_INPUT
    )
    crew_id = forms.ChoiceField(label=_("Crew"))
    valid_from = forms.DateField(
        label=_("Valid from"), required=False, widget=DATE_INPUT
    )
    valid_to = forms.DateField(
        label=_("Valid to"),
        required=False,
        widget=DATE_INPUT,
        help_text=_("Blank: no end date."),
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "kelurahan_code", kelurahan_choices(None))
        crews = Crew.objects.filter(active=True).order_by("name")
        _set_choices(self, "crew_id", [(str(crew.pk), crew.name) for crew in crews])


def site_initial(site: Site) -> dict[str, Any]:
    return {
        "code": site.code,
        "name": site.name,
        "kind": site.kind,
        "kelurahan_code": site.kelurahan.code if site.kelurahan is not None else "",
        "address": site.address,
        "lat": site.lat,
        "lng": site.lng,
        "service_minutes": site.service_minutes,
        "opens_at": site.opens_at,
        "closes_at": site.closes_at,
        "active": site.active,
    }


def container_initial(container: Container) -> dict[str, Any]:
    return {
        "site_id": str(container.site_id),
        "name": container.name,
        "volume_m3": container.volume_m3,
        "max_load_kg": container.max_load_kg,
        "stored_waste_kind": container.stored_waste_kind,
        "fill_threshold": container.fill_threshold,
        "service_minutes": container.service_minutes,
        "sensor_id": container.sensor_id,
        "lat": container.lat,
        "lng": container.lng,
        "active": container.active,
    }


def vehicle_initial(vehicle: Vehicle) -> dict[str, Any]:
    return {
        "plate_number": vehicle.plate_number,
        "kind": vehicle.kind,
        "capacity_kg": vehicle.capacity_kg,
        "capacity_m3": vehicle.capacity_m3,
        "depot_id": str(vehicle.depot_id),
        "status": vehicle.status,
        "active": vehicle.active,
    }


def crew_initial(crew: Crew) -> dict[str, Any]:
    return {
        "name": crew.name,
        "vehicle_id": str(crew.vehicle_id or ""),
        "member_ids": [str(pk) for pk in crew.members.values_list("pk", flat=True)],
        "active": crew.active,
    }


def schedule_initial(schedule: Schedule) -> dict[str, Any]:
    unit = schedule.unit
    return {
        "kelurahan_code": schedule.kelurahan.code,
        "rw": unit.rw if unit is not None else "",
        "rt": unit.rt if unit is not None else "",
        "service": schedule.service,
        "weekdays": list(schedule.weekdays),
        "shift_start": schedule.shift_start,
        "shift_end": schedule.shift_end,
        "crew_id": str(schedule.crew_id),
        "valid_from": schedule.valid_from,
        "valid_to": schedule.valid_to,
        "active": schedule.active,
    }


# Filters of the list pages (GET forms): a field with an error filters nothing.


class SiteFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[("", _("Any kind")), *Site.Kind.choices],
    )
    kelurahan = forms.ChoiceField(label=_("Kelurahan"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "kelurahan", kelurahan_choices(str(_("All kelurahan"))))

    def apply(self, sites: QuerySet[Site]) -> QuerySet[Site]:
        values = self.cleaned_data if self.is_bound and self.is_valid() else {}
        if values.get("kind"):
            sites = sites.filter(kind=values["kind"])
        if values.get("kelurahan"):
            sites = sites.filter(kelurahan__code=values["kelurahan"])
        return sites


class ContainerFilterForm(forms.Form):
    site = forms.ChoiceField(label=_("TPS"), required=False)
    kelurahan = forms.ChoiceField(label=_("Kelurahan"), required=False)
    due = forms.BooleanField(label=_("Only above their fill threshold"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "kelurahan", kelurahan_choices(str(_("All kelurahan"))))
        sites = Site.objects.filter(kind__in=CONTAINER_SITE_KINDS).order_by("name")
        _set_choices(
            self,
            "site",
            [("", _("All TPS")), *[(str(site.pk), site.name) for site in sites]],
        )

    def apply(self, containers: QuerySet[Container]) -> QuerySet[Container]:
        values = self.cleaned_data if self.is_bound and self.is_valid() else {}
        if values.get("site"):
            containers = containers.filter(site_id=int(values["site"]))
        if values.get("kelurahan"):
            containers = containers.filter(kelurahan__code=values["kelurahan"])
        if values.get("due"):
            containers = containers.filter(fill_level__gte=F("fill_threshold"))
        return containers


class VehicleFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Type"),
        required=False,
        choices=[("", _("Any type")), *Vehicle.Kind.choices],
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *Vehicle.Status.choices],
    )

    def apply(self, vehicles: QuerySet[Vehicle]) -> QuerySet[Vehicle]:
        values = self.cleaned_data if self.is_bound and self.is_valid() else {}
        if values.get("kind"):
            vehicles = vehicles.filter(kind=values["kind"])
        if values.get("status"):
            vehicles = vehicles.filter(status=values["status"])
        return vehicles


class ScheduleFilterForm(forms.Form):
    kelurahan = forms.ChoiceField(label=_("Kelurahan"), required=False)
    crew = forms.ChoiceField(label=_("Crew"), required=False)
    weekday = forms.ChoiceField(
        label=_("Weekday"),
        required=False,
        choices=[("", _("Any day")), *WEEKDAY_CHOICES],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "kelurahan", kelurahan_choices(str(_("All kelurahan"))))
        crews = Crew.objects.order_by("name")
        _set_choices(
            self,
            "crew",
            [("", _("All crews")), *[(str(crew.pk), crew.name) for crew in crews]],
        )

    def apply(self, schedules: QuerySet[Schedule]) -> QuerySet[Schedule]:
        values = self.cleaned_data if self.is_bound and self.is_valid() else {}
        if values.get("kelurahan"):
            schedules = schedules.filter(kelurahan__code=values["kelurahan"])
        if values.get("crew"):
            schedules = schedules.filter(crew_id=int(values["crew"]))
        if values.get("weekday"):
            schedules = schedules.filter(weekdays__contains=values["weekday"])
        return schedules
