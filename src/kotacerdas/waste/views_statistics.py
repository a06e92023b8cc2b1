"""Pages of the waste app: statistics, the SIPSN export and the tonnage CSV."""

import csv
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from kotacerdas.waste import statistics
from kotacerdas.waste.models import SortingGroup

MAX_RANGE_DAYS = 366
# Before any pickup; date.min overflows when converted to an aware datetime.
EARLIEST_PICKUP_DAY = date(2000, 1, 1)
VIEW = "waste.view_waste"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# A type=date input takes only an ISO value, whatever the page's language.
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class StatisticsForm(forms.Form):
    start = forms.DateField(
        label=pgettext_lazy("date range", "From"), required=False, widget=DATE_INPUT
    )
    end = forms.DateField(
        label=pgettext_lazy("date range", "To"), required=False, widget=DATE_INPUT
    )
    day = forms.DateField(
        label=gettext_lazy("Coverage on"), required=False, widget=DATE_INPUT
    )
    month = forms.CharField(
        label=gettext_lazy("SIPSN month"),
        required=False,
        help_text=gettext_lazy("As YYYY-MM, e.g. 2026-11."),
    )

    def clean_month(self) -> tuple[int, int] | None:
        text = self.cleaned_data["month"].strip()
        if not text:
            return None
        try:
            year, month = (int(part) for part in text.split("-"))
            date(year, month, 1)
        except ValueError:
            raise forms.ValidationError(
                _("Invalid month %(value)s. Write it as YYYY-MM, e.g. 2026-11.")
                % {"value": text[:10]}
            ) from None
        return year, month

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        today = timezone.localdate()
        cleaned["end"] = cleaned.get("end") or today
        cleaned["start"] = cleaned.get("start") or cleaned["end"] - timedelta(days=6)
        cleaned["day"] = cleaned.get("day") or today
        if cleaned["start"] > cleaned["end"]:
            self.add_error("end", _("The end date is before the start date."))
        elif (cleaned["end"] - cleaned["start"]).days >= MAX_RANGE_DAYS:
            self.add_error(
                "start",
                _("The range is longer than %(days)s days. Choose a shorter one.")
                % {"days": MAX_RANGE_DAYS},
            )
        return cleaned


def _chosen_month(form: StatisticsForm) -> tuple[int, int]:
    """Return the form's month, or else the latest month up to now with pickups.

    A city with no counted pickups yet gets the current month.
    """
    chosen = form.cleaned_data.get("month")
    if chosen:
        return chosen
    today = timezone.localdate()
    _first, last = statistics.month_bounds(today.year, today.month)
    latest = (
        statistics.counted_pickups(EARLIEST_PICKUP_DAY, last)
        .order_by("-scanned_at")
        .values_list("scanned_at", flat=True)
        .first()
    )
    day = timezone.localtime(latest).date() if latest else today
    return day.year, day.month


def _month_has_pickups(year: int, month: int) -> bool:
    return statistics.counted_pickups(*statistics.month_bounds(year, month)).exists()


@login_required
@permission_required(VIEW, raise_exception=True)
def statistics_page(request: HttpRequest) -> HttpResponse:
    form = StatisticsForm(request.GET or None)
    if request.GET and not form.is_valid():
        return render(request, "waste/statistics/page.html", {"form": form}, status=400)
    if not request.GET:
        form = StatisticsForm({})
        form.is_valid()
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    day = form.cleaned_data["day"]
    year, month = _chosen_month(form)
    recovery = statistics.recovery(start, end)
    if not request.GET:
        # Show the default dates in the inputs instead of empty fields.
        form = StatisticsForm(initial={"start": start, "end": end, "day": day})
    context = {
        "form": form,
        "start": start,
        "end": end,
        "day": day,
        "month": f"{year:04d}-{month:02d}",
        "month_has_pickups": _month_has_pickups(year, month),
        **_tonnage_tables(statistics.tonnage(start, end)),
        "coverage": statistics.coverage(day),
        "recovery": recovery,
        "recovery_rows": statistics.material_rows(recovery.bank_g_by_material),
        "report_ages": statistics.open_reports_by_age(),
        "flagged": statistics.flagged_pickups(),
        "groups": SortingGroup.choices,
    }
    return render(request, "waste/statistics/page.html", context)


def _tonnage_tables(rows: list[statistics.TonnageRow]) -> dict[str, Any]:
    """Pivot tonnage rows into a table by day and sorting group and a kelurahan table."""
    by_day: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_kelurahan: dict[tuple[str, str], int] = defaultdict(int)
    estimated = 0
    for row in rows:
        by_day[row.day][row.category] += row.weight_g
        by_kelurahan[(row.kelurahan_code, row.kelurahan_name)] += row.weight_g
        estimated += row.estimated_g
    days = [
        (day, [by_day[day].get(group, 0) for group in SortingGroup.values])
        for day in sorted(by_day)
    ]
    return {
        "days": days,
        "kelurahan_totals": sorted(by_kelurahan.items()),
        "total_g": sum(row.weight_g for row in rows),
        "estimated_g": estimated,
    }


def _bad_request(form: StatisticsForm) -> HttpResponse:
    errors = "; ".join(
        " ".join(str(message) for message in messages)
        for messages in form.errors.values()
    )
    return HttpResponse(errors, status=400, content_type="text/plain")


@login_required
@permission_required(VIEW, raise_exception=True)
def sipsn_export(request: HttpRequest) -> HttpResponse:
    form = StatisticsForm(request.GET)
    if not form.is_valid():
        return _bad_request(form)
    year, month = _chosen_month(form)
    response = HttpResponse(statistics.sipsn_workbook(year, month), XLSX_TYPE)
    name = f"sipsn-{year:04d}-{month:02d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@permission_required(VIEW, raise_exception=True)
def tonnage_csv(request: HttpRequest) -> HttpResponse:
    form = StatisticsForm(request.GET)
    if not form.is_valid():
        return _bad_request(form)
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"tonnage-{start.isoformat()}-{end.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    csv.writer(response).writerows(statistics.tonnage_csv_rows(start, end))
    return response
