"""The trial report (page and PDF) and the baseline entry page of a pilot.

The report needs `pilot.view_trial_report` (admin, command center, auditor).
Entering baseline figures changes what the report compares with, so it needs
`pilot.manage_pilot` (admin), like the rest of pilot management.
"""

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from kotacerdas.pilot import baseline, trial_display
from kotacerdas.pilot.models import BaselineFigure, Pilot
from kotacerdas.pilot.trial import TrialNotStarted
from kotacerdas.pilot.trial_metrics import UNITS, TrialMetric
from kotacerdas.pilot.trial_report import TrialReport, build_trial_report

View = Callable[..., HttpResponse]
VIEW_REPORT = "pilot.view_trial_report"
MANAGE = "pilot.manage_pilot"
MAX_UPLOAD_BYTES = 1_000_000
# The home page links the reports of pilots that run or ended this many days
# ago at most, newest first, and at most REPORT_LINKS of them.
RECENT_DAYS = 180
REPORT_LINKS = 10


def reportable_pilots(user: Any) -> list[Pilot]:
    """Return the started, running or recent pilots whose report `user` may open."""
    if not user.has_perm(VIEW_REPORT):
        return []
    today = timezone.localdate()
    since = today - timedelta(days=RECENT_DAYS)
    started = Pilot.objects.filter(starts_on__lte=today, ends_on__gte=since)
    return list(started.order_by("-starts_on", "slug")[:REPORT_LINKS])


def needs(permission: str) -> Callable[[View], View]:
    """Require sign-in and `permission` (403 without it)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.has_perm(permission):
                raise PermissionDenied(permission)
            return view(request, *args, **kwargs)

        return login_required(wrapper)

    return decorate


def _report_context(report: TrialReport) -> dict[str, Any]:
    return {
        "pilot": report.pilot,
        "report": report,
        "tables": trial_display.tables_text(report),
        "periods": trial_display.period_texts(report),
        "method": trial_display.method_texts(report),
        "checkpoint": trial_display.checkpoint_texts(report),
    }


def _not_started(request: HttpRequest, pilot: Pilot) -> HttpResponse:
    context = {"pilot": pilot}
    return render(request, "pilot/trial_not_started.html", context, status=404)


@never_cache
@require_GET
@needs(VIEW_REPORT)
def trial_report(request: HttpRequest, slug: str) -> HttpResponse:
    pilot = get_object_or_404(Pilot, slug=slug)
    try:
        report = build_trial_report(pilot)
    except TrialNotStarted:
        return _not_started(request, pilot)
    return render(request, "pilot/trial_report.html", _report_context(report))


@never_cache
@require_GET
@needs(VIEW_REPORT)
def trial_report_pdf(request: HttpRequest, slug: str) -> HttpResponse:
    pilot = get_object_or_404(Pilot, slug=slug)
    try:
        report = build_trial_report(pilot)
    except TrialNotStarted:
        return _not_started(request, pilot)
    # fpdf2 takes about half a second to import, so only a PDF pays for it.
    from kotacerdas.pilot import trial_pdf

    response = HttpResponse(trial_pdf.render(report), content_type="application/pdf")
    name = _("trial-report-%(slug)s.pdf") % {"slug": pilot.slug}
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


class FigureForm(forms.Form):
    kelurahan_code = forms.ChoiceField(label=gettext_lazy("Area"), required=False)
    metric = forms.ChoiceField(
        label=gettext_lazy("Metric"), choices=TrialMetric.choices
    )
    starts_on = forms.CharField(
        label=gettext_lazy("Period starts on"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    ends_on = forms.CharField(
        label=gettext_lazy("Period ends on"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    value = forms.CharField(
        label=gettext_lazy("Value"),
        help_text=gettext_lazy(
            "Rates in percent (61.5), waste in kilograms, time in hours, counts"
            " and rupiah as whole numbers."
        ),
    )
    source_note = forms.CharField(
        label=gettext_lazy("Source"),
        max_length=baseline.MAX_SOURCE_NOTE,
        help_text=gettext_lazy("Where the figure comes from, such as a DLH logbook."),
    )

    def __init__(self, pilot: Pilot, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        codes = sorted(set(pilot.areas.values_list("kelurahan_code", flat=True)))
        choices = [("", _("All pilot areas"))] + [(code, code) for code in codes]
        self.fields["kelurahan_code"].choices = choices  # type: ignore[attr-defined]


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        help_text=gettext_lazy(
            "UTF-8, with the header"
            " kelurahan_code,metric,starts_on,ends_on,value,source_note."
        ),
    )


@require_http_methods(["GET", "POST"])
@needs(MANAGE)
def baseline_page(request: HttpRequest, slug: str) -> HttpResponse:
    """List the pilot's paper figures and take one more, or a CSV file of them."""
    pilot = get_object_or_404(Pilot, slug=slug)
    form = FigureForm(pilot)
    upload = ImportForm()
    errors: list[baseline.BaselineError] = []
    if request.method == "POST" and "file" in request.FILES:
        upload = ImportForm(request.POST, request.FILES)
        if upload.is_valid():
            errors = _import(request, pilot, upload.cleaned_data["file"])
            if not errors:
                return redirect("pilot_trial:baseline", slug=pilot.slug)
    elif request.method == "POST":
        form = FigureForm(pilot, request.POST)
        if form.is_valid():
            try:
                baseline.enter_figure(pilot, form.cleaned_data, actor=request.user)
            except baseline.BaselineInvalid as error:
                for problem in error.errors:
                    form.add_error(problem.field, problem.message)
            else:
                messages.success(request, _("The baseline figure is saved."))
                return redirect("pilot_trial:baseline", slug=pilot.slug)
    figures = BaselineFigure.objects.filter(pilot=pilot)
    rows = [
        (figure, trial_display.value_text(_unit(figure.metric), figure.value))
        for figure in figures
    ]
    context = {
        "pilot": pilot,
        "form": form,
        "upload": upload,
        "import_errors": errors,
        "figures": rows,
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "pilot/baseline.html", context, status=status)


def _unit(metric: str) -> str:
    return UNITS[metric].unit


def _import(request: HttpRequest, pilot: Pilot, upload: Any) -> list[Any]:
    if upload.size > MAX_UPLOAD_BYTES:
        return [
            baseline.BaselineError(
                None, "file", _("The file is larger than 1 MB; split it.")
            )
        ]
    try:
        text = upload.read().decode("utf-8")
    except UnicodeDecodeError:
        return [
            baseline.BaselineError(
                None, "file", _("The file is not UTF-8 text; save it as CSV UTF-8.")
            )
        ]
    try:
        saved = baseline.import_csv(pilot, text, actor=request.user)
    except baseline.BaselineInvalid as error:
        return error.errors
    messages.success(
        request, _("%(count)s baseline figures imported.") % {"count": len(saved)}
    )
    return []
