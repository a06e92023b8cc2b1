"""The waste app's home page: today's figures and every waste page a user may open."""

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from kotacerdas.waste.models import Alert, Container, Pickup, RoutePlan, RouteStop

# Users holding any of these see the home page.
HOME_PERMISSIONS = (
    "waste.view_waste",
    "waste.record_pickup",
    "wastebank.operate_waste_bank",
    "wastereports.file_report",
)


@dataclass(frozen=True)
class Link:
    label: str
    url: str


def page_links(user: object) -> list[tuple[str, list[Link]]]:
    """Return the page groups the user may open, each with its links."""

    def allowed(permission: str) -> bool:
        return bool(user.has_perm(permission))  # type: ignore[attr-defined]

    def link(label: str, name: str) -> Link:
        return Link(label, reverse(name))

    groups: list[tuple[str, list[Link]]] = []
    field = []
    if allowed("waste.record_pickup"):
        field.append(link(_("Today's route"), "waste:collector"))
        field.append(link(_("Route page and printable sheet"), "waste:my_route"))
    if allowed("waste.view_waste"):
        field.append(link(_("Route plans"), "waste:route_list"))
        field.append(link(_("Container fill levels"), "waste:container_fill_levels"))
    if allowed("waste.review_pickup"):
        field.append(link(_("Pickups to review"), "waste:pickup_review"))
    if allowed("wastereports.view_report"):
        field.append(link(_("Citizen reports"), "wastereports:queue"))
    if field:
        groups.append((pgettext("waste", "Collection"), field))
    if allowed("waste.view_waste"):
        groups.append(
            (
                _("Places and fleet"),
                [
                    link(_("Sites"), "waste:site_list"),
                    link(_("Containers"), "waste:container_list"),
                    link(_("Vehicles"), "waste:vehicle_list"),
                    link(_("Crews"), "waste:crew_list"),
                    link(_("Schedules"), "waste:schedule_list"),
                    link(_("Materials"), "waste:material_list"),
                    link(_("Map"), "waste:places_map"),
                ],
            )
        )
        groups.append((_("Reports"), [link(_("Waste statistics"), "waste:statistics")]))
    if allowed("wastebank.operate_waste_bank"):
        groups.append((_("Waste banks"), [link(_("Waste banks"), "wastebank:home")]))
    if allowed("wastereports.file_report"):
        groups.append(
            (
                _("For residents"),
                [
                    link(_("My reports"), "wastereports:mine"),
                    link(_("Report a waste problem"), "wastereports:new"),
                    link(_("Waste bank savings"), "wastebank:home"),
                ],
            )
        )
    return groups


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    value: int


def _figures() -> list[Figure]:
    """Today's figures for staff who see city-wide waste operations."""
    today = timezone.localdate()
    plans = RoutePlan.objects.filter(date=today).exclude(
        status=RoutePlan.Status.CANCELLED
    )
    stops = RouteStop.objects.filter(
        plan__in=plans, kind__in=[RouteStop.Kind.BUILDING, RouteStop.Kind.CONTAINER]
    ).exclude(status=RouteStop.Status.CANCELLED)
    # Work done on a plan cancelled later (a vehicle broke down) still counts.
    done = RouteStop.objects.filter(
        plan__date=today,
        kind__in=[RouteStop.Kind.BUILDING, RouteStop.Kind.CONTAINER],
        status=RouteStop.Status.DONE,
    )
    return [
        Figure("plans", _("Route plans today"), plans.count()),
        Figure("stops", _("Stops planned today"), stops.count()),
        Figure(
            "stops_done",
            _("Stops done today"),
            done.count(),
        ),
        Figure(
            "pickups",
            _("Pickups recorded today"),
            Pickup.objects.filter(
                scanned_at__date=today, duplicate_of__isnull=True
            ).count(),
        ),
        Figure(
            "containers_due",
            _("Containers above their threshold"),
            Container.objects.filter(
                active=True, fill_level__gte=F("fill_threshold")
            ).count(),
        ),
        Figure(
            "open_alerts",
            _("Open alerts"),
            Alert.objects.filter(cleared_at__isnull=True).count(),
        ),
    ]


@login_required
def home(request: HttpRequest) -> HttpResponse:
    if not any(request.user.has_perm(name) for name in HOME_PERMISSIONS):
        raise PermissionDenied
    figures = _figures() if request.user.has_perm("waste.view_waste") else []
    return render(
        request,
        "waste/home.html",
        {"groups": page_links(request.user), "figures": figures},
    )
