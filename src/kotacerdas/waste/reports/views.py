"""Pages of citizen reports: file and follow (citizens), queue and handle (staff).

A citizen sees only reports they filed or follow; any other id is a 404, so
ids cannot be probed. Followers see the status and public updates but not
the reporter's description or photo, which may show the reporter's home.
"""

import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kotacerdas.city.models import Area, City
from kotacerdas.registry.queries import boundary_features
from kotacerdas.waste.reports import services
from kotacerdas.waste.reports.forms import (
    AssignForm,
    QueueFilterForm,
    ReportForm,
    UpdateForm,
)
from kotacerdas.waste.reports.models import OPEN_STATUSES, Report

logger = logging.getLogger(__name__)

FILE = "wastereports.file_report"
VIEW = "wastereports.view_report"
HANDLE = "wastereports.handle_report"


def _require(request: HttpRequest, *permissions: str) -> None:
    if not any(request.user.has_perm(p) for p in permissions):
        raise PermissionDenied


def _visible_report(request: HttpRequest, report_id: int) -> tuple[Report, bool]:
    """Return the report and whether the user sees everything (staff or reporter)."""
    report = (
        Report.objects.select_related("kelurahan", "assignee", "building", "container")
        .filter(pk=report_id)
        .first()
    )
    if report is None:
        raise Http404
    user = request.user
    if user.has_perm(VIEW) or report.reporter_id == user.pk:
        return report, True
    following = user.pk is not None and report.followers.filter(pk=user.pk).exists()
    if user.has_perm(FILE) and following:
        return report, False
    raise Http404


def _map_context() -> dict[str, Any]:
    city = City.objects.order_by("id").first()
    areas = Area.objects.filter(city=city) if city else Area.objects.none()
    return {
        "boundaries": boundary_features(areas),
        "center": [city.center_lat, city.center_lng] if city else [0, 0],
        "zoom": city.default_zoom if city else 14,
        "tile_url": settings.KOTACERDAS_MAP_TILE_URL,
        "tile_attribution": settings.KOTACERDAS_MAP_TILE_ATTRIBUTION,
    }


@login_required
def my_reports(request: HttpRequest) -> HttpResponse:
    _require(request, FILE)
    user = request.user
    reports = (
        Report.objects.filter(Q(reporter=user) | Q(followers=user))
        .distinct()
        .select_related("kelurahan")
        .order_by("-created_at")
    )
    page = Paginator(reports, 25).get_page(request.GET.get("page"))
    return render(request, "wastereports/my_reports.html", {"page": page})


@login_required
def new_report(request: HttpRequest) -> HttpResponse:
    _require(request, FILE)
    form = ReportForm(request.POST or None, request.FILES or None)
    nearby: list[tuple[Report, int]] = []
    if request.method == "POST" and form.is_valid():
        data = services.ReportInput(
            kind=form.cleaned_data["kind"],
            description=form.cleaned_data["description"],
            lat=form.cleaned_data["lat"],
            lng=form.cleaned_data["lng"],
            photo=form.cleaned_data["photo"],
            building_plate=form.cleaned_data["building_plate"],
            container_plate=form.cleaned_data["container_plate"],
        )
        try:
            services.clean_report(data)
        except services.ReportInvalid as invalid:
            for error in invalid.errors:
                form.add_error(error.field, error.message)
        else:
            if not form.cleaned_data["file_anyway"]:
                nearby = _nearby_for(request, data)
            if not nearby:
                report = services.file_report(data, request.user)
                messages.success(
                    request,
                    _("Report %(id)s filed. We will keep you posted here.")
                    % {"id": report.pk},
                )
                return redirect("wastereports:detail", report_id=report.pk)
    context = {"form": form, "nearby": nearby, **_map_context()}
    return render(request, "wastereports/report_form.html", context)


def _nearby_for(
    request: HttpRequest, data: services.ReportInput
) -> list[tuple[Report, int]]:
    lat, _error = services.parse_coordinate(data.lat, 90)
    lng, _error = services.parse_coordinate(data.lng, 180)
    if lat is None or lng is None:
        return []
    nearby = services.nearby_open_reports(data.kind, lat, lng)
    return [(report, metres) for report, metres in nearby]


@require_POST
@login_required
def follow(request: HttpRequest, report_id: int) -> HttpResponse:
    _require(request, FILE)
    if not Report.objects.filter(pk=report_id).exists():
        raise Http404
    try:
        services.follow_report(report_id, request.user)
    except services.ReportRejected as rejected:
        messages.error(request, str(rejected))
        return redirect("wastereports:new")
    messages.success(
        request,
        _("You now follow report %(id)s and will see its updates.") % {"id": report_id},
    )
    return redirect("wastereports:detail", report_id=report_id)


@login_required
def detail(request: HttpRequest, report_id: int) -> HttpResponse:
    report, full = _visible_report(request, report_id)
    updates = report.updates.select_related("author")
    staff = request.user.has_perm(VIEW)
    if not staff:
        # An internal update still shows the reporter its status change, never its note.
        updates = updates.filter(Q(public=True) | ~Q(from_status=F("to_status")))
    context = {
        "report": report,
        "full": full,
        "staff": staff,
        "updates": updates,
        "overdue": report.is_open and report.sla_due_at < timezone.now(),
        "follower_count": report.followers.count(),
    }
    if request.user.has_perm(HANDLE):
        context["update_form"] = UpdateForm(initial={"status": report.status})
        context["assign_form"] = AssignForm(initial={"assignee": report.assignee_id})
    return render(request, "wastereports/detail.html", context)


@login_required
def photo(request: HttpRequest, report_id: int) -> FileResponse:
    report, full = _visible_report(request, report_id)
    if not full or not report.photo:
        raise Http404
    response = FileResponse(report.photo.open("rb"))
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    _require(request, VIEW)
    form = QueueFilterForm(request.GET or None)
    reports = _filtered(form)
    page = Paginator(reports, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "now": timezone.now(),
        "query": query.urlencode(),
    }
    return render(request, "wastereports/queue.html", context)


def _filtered(form: QueueFilterForm) -> QuerySet[Report]:
    reports = Report.objects.select_related("kelurahan", "assignee")
    values = form.cleaned_data if form.is_valid() else {}
    status = values.get("status", "")
    if status == "":
        reports = reports.filter(status__in=OPEN_STATUSES)
    elif status != "all":
        reports = reports.filter(status=status)
    if values.get("kind"):
        reports = reports.filter(kind=values["kind"])
    if values.get("kelurahan"):
        reports = reports.filter(kelurahan=values["kelurahan"])
    if values.get("overdue"):
        reports = reports.filter(
            status__in=OPEN_STATUSES, sla_due_at__lt=timezone.now()
        )
    return reports.order_by("sla_due_at", "id")


@require_POST
@login_required
def update(request: HttpRequest, report_id: int) -> HttpResponse:
    _require(request, HANDLE)
    report, _full = _visible_report(request, report_id)
    form = UpdateForm(request.POST)
    if form.is_valid():
        try:
            services.change_status(
                report.pk,
                form.cleaned_data["status"],
                request.user,
                note=form.cleaned_data["note"],
                public=form.cleaned_data["public"],
                duplicate_of=form.cleaned_data["duplicate_of"],
            )
        except services.ReportInvalid as invalid:
            for error in invalid.errors:
                messages.error(request, f"{_field_label(error.field)}: {error.message}")
        else:
            messages.success(request, _("Report updated."))
    else:
        for field, errors in form.errors.items():
            text = " ".join(str(error) for error in errors)
            messages.error(request, f"{_field_label(field)}: {text}")
    return redirect("wastereports:detail", report_id=report.pk)


@require_POST
@login_required
def assign(request: HttpRequest, report_id: int) -> HttpResponse:
    _require(request, HANDLE)
    report, _full = _visible_report(request, report_id)
    form = AssignForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Assign to: choose a waste operator from the list."))
        return redirect("wastereports:detail", report_id=report.pk)
    try:
        services.assign_report(
            report.pk,
            form.cleaned_data["assignee"],
            request.user,
            note=form.cleaned_data["note"],
            public=form.cleaned_data["public"],
        )
    except services.ReportInvalid as invalid:
        for error in invalid.errors:
            messages.error(request, f"{_field_label(error.field)}: {error.message}")
    else:
        messages.success(request, _("Report assigned."))
    return redirect("wastereports:detail", report_id=report.pk)


def _field_label(field: str) -> str:
    labels = {
        "status": _("Status"),
        "note": _("Note"),
        "duplicate_of": _("Duplicate of report number"),
        "assignee": _("Assign to"),
    }
    return labels.get(field, field)
