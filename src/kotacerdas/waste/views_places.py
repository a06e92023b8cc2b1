"""Operator pages of sites, containers, vehicles, crews, schedules and materials.

Lists and the map need `waste.view_waste`; forms, plate printing and status
changes need `waste.manage_places`. Writes go through `waste.places` and
`waste.places_crews`, whose field errors are shown on the form fields.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.dates import WEEKDAYS
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from kotacerdas.city.models import City
from kotacerdas.registry.forms import apply_errors
from kotacerdas.waste import forms_places as forms
from kotacerdas.waste import places, places_crews
from kotacerdas.waste.container_plates import (
    MAX_PLATES_PER_SHEET,
    container_face,
    render_container_plates,
)
from kotacerdas.waste.models import Container, Crew, Material, Schedule, Site, Vehicle

View = Callable[..., HttpResponse]
VIEW = "waste.view_waste"
MANAGE = "waste.manage_places"


def places_page(permission: str) -> Callable[[View], View]:
    """Require sign-in and `permission` (403 without it)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.has_perm(permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return login_required(wrapper)

    return decorate


@dataclass(frozen=True)
class Row:
    """One row of a list page: its cells as text and the link to edit it."""

    cells: list[Any]
    edit_url: str = ""


def _list_page(
    request: HttpRequest,
    title: Any,
    columns: list[Any],
    rows: list[Row],
    *,
    filters: Any = None,
    new_url: str = "",
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    context = {
        "title": title,
        "columns": columns,
        "rows": rows,
        "filters": filters,
        "new_url": new_url if request.user.has_perm(MANAGE) else "",
        "can_manage": request.user.has_perm(MANAGE),
        **(extra or {}),
    }
    return render(request, "waste/places/list.html", context)


def _form_page(
    request: HttpRequest,
    form: Any,
    save: Callable[[dict[str, Any]], Any],
    *,
    title: Any,
    back_url: str,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    """Validate a bound form, call `save` with its values, show its errors."""
    if request.method == "POST" and form.is_valid():
        try:
            save(form.cleaned_data)
        except places.PlacesInvalid as invalid:
            apply_errors(form, invalid.errors)
        else:
            messages.success(request, _("Saved."))
            return redirect(back_url)
    context = {"title": title, "form": form, "back_url": back_url, **(extra or {})}
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "waste/places/form.html", context, status=status)


def _posted(request: HttpRequest) -> Any:
    return request.POST if request.method == "POST" else None


# Sites -------------------------------------------------------------------------


@places_page(VIEW)
def site_list(request: HttpRequest) -> HttpResponse:
    """List sites, filtered by kind and kelurahan."""
    filters = forms.SiteFilterForm(request.GET or None)
    sites = filters.apply(Site.objects.select_related("kelurahan"))
    rows = [
        Row(
            [
                site.name,
                site.get_kind_display(),
                site.kelurahan.name if site.kelurahan else "-",
                site.containers.count()
                if site.kind in places.CONTAINER_SITE_KINDS
                else "",
                _("yes") if site.active else _("no"),
            ],
            reverse("waste:site_edit", args=[site.pk]),
        )
        for site in sites
    ]
    columns = [_("Name"), _("Kind"), _("Kelurahan"), _("Containers"), _("Active")]
    return _list_page(
        request,
        _("Waste sites"),
        columns,
        rows,
        filters=filters,
        new_url=reverse("waste:site_create"),
    )


@places_page(MANAGE)
def site_edit(request: HttpRequest, site_id: int | None = None) -> HttpResponse:
    """Create a site, or change one."""
    site = get_object_or_404(Site, pk=site_id) if site_id else None
    initial = (
        forms.site_initial(site) if site else {"active": True, "service_minutes": 15}
    )
    form = forms.SiteForm(_posted(request), initial=initial)
    return _form_page(
        request,
        form,
        lambda values: places.save_site(
            places.SiteInput(**values), site, actor=request.user
        ),
        title=site.name if site else _("New waste site"),
        back_url=reverse("waste:site_list"),
    )


# Containers --------------------------------------------------------------------


@places_page(VIEW)
def container_list(request: HttpRequest) -> HttpResponse:
    """List containers with their fill level, filtered by site, kelurahan, due."""
    filters = forms.ContainerFilterForm(request.GET or None)
    containers = filters.apply(Container.objects.select_related("site", "kelurahan"))
    rows = [
        Row(
            [
                container.plate_code,
                container.name,
                container.site.name,
                _fill_text(container),
                container.sensor_id or "-",
                container.get_status_display(),
            ],
            reverse("waste:container_edit", args=[container.pk]),
        )
        for container in containers
    ]
    columns = [
        _("Plate code"),
        _("Name"),
        _("TPS"),
        _("Fill level"),
        _("Sensor id"),
        _("Status"),
    ]
    site_id = request.GET.get("site", "")
    sheet_url = reverse("waste:container_sheet") + (
        f"?site={site_id}" if site_id.isdigit() else ""
    )
    return _list_page(
        request,
        _("Containers"),
        columns,
        rows,
        filters=filters,
        new_url=reverse("waste:container_create"),
        extra={"sheet_url": sheet_url},
    )


def _fill_text(container: Container) -> str:
    if container.fill_level is None:
        return "-"
    percent = round(container.fill_level * 100)
    if container.fill_level < container.fill_threshold:
        return f"{percent}%"
    due = _("due")
    return f"{percent}% ({due})"


@places_page(MANAGE)
def container_edit(
    request: HttpRequest, container_id: int | None = None
) -> HttpResponse:
    """Create a container (with a new plate), or change one."""
    container = get_object_or_404(Container, pk=container_id) if container_id else None
    if container:
        initial = forms.container_initial(container)
    else:
        initial = {
            "active": True,
            "fill_threshold": "0.8",
            "service_minutes": 10,
            "site_id": request.GET.get("site", ""),
        }
    form = forms.ContainerForm(_posted(request), initial=initial)
    extra = {}
    if container is not None:
        extra = {
            "plate_code": container.plate_code,
            "plate_url": reverse("waste:container_plate", args=[container.pk]),
        }
    return _form_page(
        request,
        form,
        lambda values: places.save_container(
            places.ContainerInput(**values), container, actor=request.user
        ),
        title=container.name if container else _("New container"),
        back_url=reverse("waste:container_list"),
        extra=extra,
    )


def _plates_pdf(containers: list[Container], filename: str) -> HttpResponse:
    content = render_container_plates(
        [container_face(container) for container in containers]
    )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _printable() -> QuerySet[Container]:
    return Container.objects.select_related("site", "kelurahan__city").filter(
        active=True
    )


@places_page(MANAGE)
def container_plate(request: HttpRequest, container_id: int) -> HttpResponse:
    """Serve one container's plate as a PDF page."""
    container = _printable().filter(pk=container_id).first()
    if container is None:
        raise Http404(_("No active container has this id."))
    return _plates_pdf([container], f"plate-{container.plate_code}.pdf")


@places_page(MANAGE)
def container_sheet(request: HttpRequest) -> HttpResponse:
    """Serve the plates of a site's containers, or of all, six to a page."""
    containers = _printable().order_by("site__name", "name")
    site_id = request.GET.get("site", "")
    if site_id.isdigit():
        containers = containers.filter(site_id=int(site_id))
    chosen = list(containers[: MAX_PLATES_PER_SHEET + 1])
    if not chosen or len(chosen) > MAX_PLATES_PER_SHEET:
        messages.error(
            request,
            _("Choose a TPS with 1 to %(max)s active containers to print their plates.")
            % {"max": MAX_PLATES_PER_SHEET},
        )
        return redirect("waste:container_list")
    return _plates_pdf(chosen, "container-plates.pdf")


# Vehicles ----------------------------------------------------------------------


@places_page(VIEW)
def vehicle_list(request: HttpRequest) -> HttpResponse:
    """List vehicles, filtered by type and status, with quick status buttons."""
    filters = forms.VehicleFilterForm(request.GET or None)
    vehicles = filters.apply(Vehicle.objects.select_related("depot"))
    rows = [
        Row(
            [
                vehicle.plate_number,
                vehicle.get_kind_display(),
                f"{number_format(vehicle.capacity_kg, force_grouping=True)} kg · "
                f"{number_format(vehicle.capacity_m3)} m³",
                vehicle.depot.name,
                vehicle.get_status_display(),
            ],
            reverse("waste:vehicle_edit", args=[vehicle.pk]),
        )
        for vehicle in vehicles
    ]
    columns = [_("Number plate"), _("Type"), _("Capacity"), _("Depot"), _("Status")]
    return _list_page(
        request,
        _("Vehicles"),
        columns,
        rows,
        filters=filters,
        new_url=reverse("waste:vehicle_create"),
    )


@places_page(MANAGE)
def vehicle_edit(request: HttpRequest, vehicle_id: int | None = None) -> HttpResponse:
    """Create a vehicle, or change one; the page also marks it broken."""
    vehicle = get_object_or_404(Vehicle, pk=vehicle_id) if vehicle_id else None
    initial = (
        forms.vehicle_initial(vehicle)
        if vehicle
        else {"active": True, "status": Vehicle.Status.PARKED}
    )
    form = forms.VehicleForm(_posted(request), initial=initial)
    extra = {}
    if vehicle is not None:
        extra = {
            "status_url": reverse("waste:vehicle_status", args=[vehicle.pk]),
            "vehicle": vehicle,
            "statuses": Vehicle.Status.choices,
        }
    return _form_page(
        request,
        form,
        lambda values: places.save_vehicle(
            places.VehicleInput(**values), vehicle, actor=request.user
        ),
        title=vehicle.plate_number if vehicle else _("New vehicle"),
        back_url=reverse("waste:vehicle_list"),
        extra=extra,
    )


@places_page(MANAGE)
def vehicle_status(request: HttpRequest, vehicle_id: int) -> HttpResponse:
    """Set a vehicle's status (POST), such as broken down."""
    vehicle = get_object_or_404(Vehicle, pk=vehicle_id)
    if request.method != "POST":
        return redirect("waste:vehicle_edit", vehicle_id=vehicle.pk)
    form = forms.VehicleStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose one of the listed statuses."))
        return redirect("waste:vehicle_edit", vehicle_id=vehicle.pk)
    places.set_vehicle_status(vehicle, form.cleaned_data["status"], actor=request.user)
    vehicle.refresh_from_db()
    messages.success(
        request,
        _("%(plate)s is now: %(status)s.")
        % {"plate": vehicle.plate_number, "status": vehicle.get_status_display()},
    )
    return redirect("waste:vehicle_list")


# Crews -------------------------------------------------------------------------


@places_page(VIEW)
def crew_list(request: HttpRequest) -> HttpResponse:
    crews = Crew.objects.select_related("vehicle").prefetch_related("members")
    rows = [
        Row(
            [
                crew.name,
                crew.vehicle.plate_number if crew.vehicle else "-",
                ", ".join(user.username for user in crew.members.all()) or "-",
                _("yes") if crew.active else _("no"),
            ],
            reverse("waste:crew_edit", args=[crew.pk]),
        )
        for crew in crews
    ]
    columns = [_("Name"), _("Vehicle"), _("Collectors"), _("Active")]
    return _list_page(
        request, _("Crews"), columns, rows, new_url=reverse("waste:crew_create")
    )


@places_page(MANAGE)
def crew_edit(request: HttpRequest, crew_id: int | None = None) -> HttpResponse:
    crew = get_object_or_404(Crew, pk=crew_id) if crew_id else None
    initial = forms.crew_initial(crew) if crew else {"active": True}
    form = forms.CrewForm(_posted(request), initial=initial)
    return _form_page(
        request,
        form,
        lambda values: places_crews.save_crew(
            places_crews.CrewInput(**values), crew, actor=request.user
        ),
        title=crew.name if crew else _("New crew"),
        back_url=reverse("waste:crew_list"),
    )


# Schedules ---------------------------------------------------------------------


def weekday_names(weekdays: str) -> str:
    return ", ".join(str(WEEKDAYS[int(day) - 1]) for day in weekdays)


@places_page(VIEW)
def schedule_list(request: HttpRequest) -> HttpResponse:
    """List schedules, filtered by kelurahan, crew and weekday."""
    filters = forms.ScheduleFilterForm(request.GET or None)
    schedules = filters.apply(
        Schedule.objects.select_related("kelurahan", "unit", "crew")
    )
    rows = [
        Row(
            [
                schedule.kelurahan.name,
                str(schedule.unit) if schedule.unit else _("whole kelurahan"),
                schedule.get_service_display(),
                weekday_names(schedule.weekdays),
                f"{schedule.shift_start:%H:%M}-{schedule.shift_end:%H:%M}",
                schedule.crew.name,
                _("yes") if schedule.active else _("no"),
            ],
            reverse("waste:schedule_edit", args=[schedule.pk]),
        )
        for schedule in schedules
    ]
    columns = [
        _("Kelurahan"),
        _("RT/RW"),
        _("Service"),
        _("Weekdays"),
        _("Shift"),
        _("Crew"),
        _("Active"),
    ]
    return _list_page(
        request,
        _("Schedules"),
        columns,
        rows,
        filters=filters,
        new_url=reverse("waste:schedule_create"),
    )


@places_page(MANAGE)
def schedule_edit(request: HttpRequest, schedule_id: int | None = None) -> HttpResponse:
    schedule = get_object_or_404(Schedule, pk=schedule_id) if schedule_id else None
    initial = (
        forms.schedule_initial(schedule)
        if schedule
        else {"active": True, "weekdays": ["1", "3", "5"]}
    )
    form = forms.ScheduleForm(_posted(request), initial=initial)
    return _form_page(
        request,
        form,
        lambda values: places_crews.save_schedule(
            places_crews.ScheduleInput(**values), schedule, actor=request.user
        ),
        title=str(schedule) if schedule else _("New schedule"),
        back_url=reverse("waste:schedule_list"),
    )


# Materials and the map ---------------------------------------------------------


@places_page(VIEW)
def material_list(request: HttpRequest) -> HttpResponse:
    rows = [
        Row(
            [
                material.code,
                material.label,
                material.get_sipsn_category_display(),
                material.get_sorting_group_display(),
            ]
        )
        for material in Material.objects.filter(active=True)
    ]
    columns = [_("Code"), _("Material"), _("SIPSN category"), _("Sorting group")]
    return _list_page(request, _("Materials"), columns, rows)


@places_page(VIEW)
def places_map(request: HttpRequest) -> HttpResponse:
    """Show active sites and containers on a map (data embedded in the page)."""
    features = [
        _feature(site.lat, site.lng, site.name, site.kind, site.get_kind_display(), "")
        for site in Site.objects.filter(active=True)
    ]
    features += [
        _feature(
            container.lat,
            container.lng,
            f"{container.name} ({container.plate_code})",
            "container",
            _fill_text(container),
            "due"
            if container.fill_level is not None
            and container.fill_level >= container.fill_threshold
            else "",
        )
        for container in Container.objects.filter(active=True)
    ]
    city = City.objects.order_by("id").first()
    context = {
        "features": {"type": "FeatureCollection", "features": features},
        "center": [city.center_lat, city.center_lng] if city else [0, 0],
        "zoom": city.default_zoom if city else 14,
        "tile_url": settings.KOTACERDAS_MAP_TILE_URL,
        "tile_attribution": settings.KOTACERDAS_MAP_TILE_ATTRIBUTION,
        "kinds": [(value, label) for value, label in Site.Kind.choices],
    }
    return render(request, "waste/places/map.html", context)


def _feature(
    lat: Any, lng: Any, name: str, kind: str, detail: str, state: str
) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [float(lng), float(lat)]},
        "properties": {
            "name": name,
            "kind": kind,
            "detail": str(detail),
            "state": state,
        },
    }
