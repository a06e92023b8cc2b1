"""The monthly PDF report for the mayor, and the page to pick its month.

The form page takes `?month=YYYY-MM` and sends the browser on to that
month's PDF, or shows why there is none (a future month, a month before the
journal began). The PDF view gives the same messages on the form page when
its address names such a month.
"""

from datetime import date

from django import forms
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from kotacerdas.command import monthly_report as report_figures
from kotacerdas.command.access import dashboard_view
from kotacerdas.command.monthly_report import ReportUnavailable
from kotacerdas.levy.months import InvalidMonth, parse_month


class MonthForm(forms.Form):
    month = forms.CharField(
        label=gettext_lazy("Month"),
        max_length=7,
        widget=forms.TextInput(
            attrs={"type": "month", "placeholder": "2026-03", "pattern": r"\d{4}-\d{2}"}
        ),
    )

    def clean_month(self) -> date:
        try:
            month = parse_month(self.cleaned_data["month"])
        except InvalidMonth as error:
            raise forms.ValidationError(error.message) from None
        try:
            report_figures.month_period(month.year, month.month)
        except ReportUnavailable as error:
            raise forms.ValidationError(error.message) from None
        return month


def _report_url(month: date) -> str:
    return reverse(
        "command:monthly_report", kwargs={"year": month.year, "month": month.month}
    )


@require_GET
@dashboard_view
def report_form(request: HttpRequest) -> HttpResponse:
    """Show the month picker, or redirect a valid `?month=` to its PDF."""
    form = MonthForm(request.GET or None)
    if form.is_bound and form.is_valid():
        return HttpResponseRedirect(_report_url(form.cleaned_data["month"]))
    status = 400 if form.is_bound else 200
    return _form_page(request, form, status)


def _form_page(request: HttpRequest, form: MonthForm, status: int) -> HttpResponse:
    if not form.is_bound:
        form.fields["month"].initial = f"{timezone.localdate():%Y-%m}"
    months = [
        (month, _report_url(month)) for month in report_figures.available_months()
    ]
    context = {"form": form, "months": months}
    return render(request, "command/report_form.html", context, status=status)


@never_cache
@require_GET
@dashboard_view
def monthly_report(request: HttpRequest, year: int, month: int) -> HttpResponse:
    """Send one month's report as a PDF in the reader's language."""
    try:
        report = report_figures.build_report(year, month)
    except ReportUnavailable as error:
        form = MonthForm({"month": f"{year:04d}-{month:02d}"})
        form.full_clean()
        form.errors["month"] = form.error_class([error.message])
        return _form_page(request, form, status=404)
    # fpdf2 takes about half a second to import, so only a report pays for it.
    from kotacerdas.command import monthly_report_pdf

    content = monthly_report_pdf.render(report)
    response = HttpResponse(content, content_type="application/pdf")
    name = _("monthly-report-%(month)s.pdf") % {"month": f"{year:04d}-{month:02d}"}
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response
