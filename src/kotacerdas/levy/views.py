"""The revenue officer's levy pages: tariffs, billing runs, collection, bills.

Reading pages take `wallet.manage_levies` (the revenue officer) or
`wallet.view_all_accounts` (auditors and administrators, read-only); pages
that change something take `wallet.manage_levies`. Writes go through
`levy.services` and `levy.billing`, whose field errors are shown on the form.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from kotacerdas.levy import billing, exports, queries, services
from kotacerdas.levy.forms import (
    DEFAULT_PAGE_SIZE,
    ArrearsForm,
    BillFilterForm,
    BillingForm,
    CancelForm,
    ReportForm,
    TariffForm,
    apply_errors,
)
from kotacerdas.levy.models import Bill, BillingRun, Tariff
from kotacerdas.levy.months import current_month, month_text
from kotacerdas.levy.services import LevyError
from kotacerdas.wallet.display import rupiah

View = Callable[..., HttpResponse]

MANAGE = "wallet.manage_levies"
READ = (MANAGE, "wallet.view_all_accounts")
RECENT_RUNS = 24


def levy_page(*permissions: str) -> Callable[[View], View]:
    """Require sign-in and any one of `permissions`."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not any(request.user.has_perm(p) for p in permissions):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return login_required(wrapper)

    return decorate


def _posted(request: HttpRequest) -> Any:
    return request.POST if request.method == "POST" else None


def _is_partial(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx and not htmx.boosted)


# Tariffs ---------------------------------------------------------------------------


@levy_page(*READ)
def tariff_list(request: HttpRequest) -> HttpResponse:
    services.ensure_tariffs()
    in_force = services.tariffs_for(current_month())
    classes = [
        (levy, in_force.get(code)) for code, levy in services.profile_classes().items()
    ]
    history = Tariff.objects.select_related("created_by").order_by(
        "levy_class", "-valid_from", "-id"
    )
    context = {"classes": classes, "history": history, "month": current_month()}
    return render(request, "levy/tariffs.html", context)


@levy_page(MANAGE)
def tariff_set(request: HttpRequest) -> HttpResponse:
    form = TariffForm(
        _posted(request), initial={"levy_class": request.GET.get("levy_class")}
    )
    if form.is_valid():
        try:
            tariff = services.set_tariff(
                form.cleaned_data["levy_class"],
                form.cleaned_data["monthly_amount"],
                form.cleaned_data["valid_from"],
                actor=request.user,
            )
        except LevyError as error:
            apply_errors(form, error.errors)
        else:
            messages.success(
                request,
                _("Class %(code)s is billed %(amount)s a month from %(month)s.")
                % {
                    "code": tariff.levy_class,
                    "amount": rupiah(tariff.monthly_amount),
                    "month": f"{tariff.valid_from:%Y-%m}",
                },
            )
            return redirect("levy:tariffs")
    return render(request, "levy/tariff_form.html", {"form": form})


# Billing runs ----------------------------------------------------------------------


@levy_page(MANAGE)
def billing_page(request: HttpRequest) -> HttpResponse:
    """Show the billing form and past runs; a POST queues the chosen month."""
    form = BillingForm(_posted(request))
    if form.is_valid():
        try:
            run = billing.queue_billing(form.cleaned_data["month"], actor=request.user)
        except LevyError as error:
            apply_errors(form, error.errors)
        else:
            return redirect("levy:billing_run", run_id=run.pk)
    runs = BillingRun.objects.select_related("started_by")[:RECENT_RUNS]
    return render(request, "levy/billing.html", {"form": form, "runs": runs})


@levy_page(*READ)
def billing_run(request: HttpRequest, run_id: int) -> HttpResponse:
    """Serve a run; to HTMX, only its progress, which polls while it is active."""
    run = get_object_or_404(BillingRun.objects.select_related("started_by"), pk=run_id)
    context = {"run": run, "stalled": billing.stalled(run)}
    if _is_partial(request):
        return render(request, "levy/partials/run_progress.html", context)
    return render(request, "levy/billing_run.html", context)


# Collection and arrears ------------------------------------------------------------


@levy_page(*READ)
def report(request: HttpRequest) -> HttpResponse:
    month = current_month()
    form = ReportForm(request.GET or None, initial={"month": month_text(month)})
    if form.is_bound and form.is_valid() and form.cleaned_data["month"]:
        month = form.cleaned_data["month"]
    context = {"form": form, "report": queries.collection_report(month)}
    return render(request, "levy/report.html", context)


@levy_page(*READ)
def arrears(request: HttpRequest) -> HttpResponse:
    form = ArrearsForm(request.GET or None)
    kelurahan = form.cleaned_data["kelurahan"] if form.is_valid() else None
    rows = queries.arrears_by_payer(kelurahan)
    page = Paginator(rows, DEFAULT_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "kelurahan": kelurahan}
    return render(request, "levy/arrears.html", context)


# Bills -----------------------------------------------------------------------------


def _filtered_bills(request: HttpRequest) -> tuple[BillFilterForm, Any]:
    form = BillFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else {}
    bills = queries.filter_bills(queries.with_payer(Bill.objects.all()), filters)
    return form, bills.order_by("-month", "kelurahan__name", "number")


@levy_page(*READ)
def bill_list(request: HttpRequest) -> HttpResponse:
    """Serve the filtered bill list, or only its results to an HTMX request."""
    form, bills = _filtered_bills(request)
    per_page = form.cleaned_data.get("per_page") if form.is_bound else None
    page = Paginator(bills, per_page or DEFAULT_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {"form": form, "page": page}
    if _is_partial(request):
        return render(request, "levy/partials/bill_results.html", context)
    return render(request, "levy/bill_list.html", context)


@levy_page(*READ)
def bill_export(request: HttpRequest, file_format: str) -> HttpResponse:
    if file_format not in exports.FORMATS:
        raise Http404
    _form, bills = _filtered_bills(request)
    return exports.bills_response(bills, file_format)


@levy_page(*READ)
def bill_detail(request: HttpRequest, bill_id: int) -> HttpResponse:
    bill = get_object_or_404(queries.with_payer(Bill.objects.all()), pk=bill_id)
    payments = bill.payments.select_related("transfer").order_by("created_at", "id")
    context = {"bill": bill, "payments": payments}
    return render(request, "levy/bill_detail.html", context)


@levy_page(MANAGE)
def bill_cancel(request: HttpRequest, bill_id: int) -> HttpResponse:
    bill = get_object_or_404(Bill, pk=bill_id)
    form = CancelForm(_posted(request))
    if form.is_valid():
        try:
            services.cancel_bill(bill, form.cleaned_data["reason"], actor=request.user)
        except LevyError as error:
            apply_errors(form, error.errors)
        else:
            messages.success(
                request,
                _(
                    "Bill %(number)s is cancelled. The next billing run of %(month)s bills this payer again."
                )
                % {"number": bill.number, "month": f"{bill.month:%Y-%m}"},
            )
            return redirect("levy:bill_detail", bill_id=bill.pk)
    return render(request, "levy/bill_cancel.html", {"bill": bill, "form": form})
