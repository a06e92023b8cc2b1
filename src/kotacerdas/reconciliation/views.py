"""Reconciliation pages: the daily float check and bank statement imports.

Every page needs `wallet.reconcile`, which revenue officers hold; anyone else
signed in gets 403 and a visitor the sign-in page. The pages show wallet
numbers and staff user names but no citizen names.
"""

import csv
import io
from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kotacerdas.reconciliation import services, statements
from kotacerdas.reconciliation.models import (
    DailyReconciliation,
    LineStatus,
    StatementImport,
)
from kotacerdas.reconciliation.statement_csv import HEADER_NAMES, StatementRejected
from kotacerdas.wallet.models import AccountKind, Channel, TransferKind

View = Callable[..., HttpResponse]
DAYS_PER_PAGE = 31
LINES_SHOWN = 1000
PERMISSION = "wallet.reconcile"


def reconcile_page(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.has_perm(PERMISSION):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def _day(text: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise Http404 from None
    if day > timezone.localdate():
        raise Http404
    return day


@reconcile_page
def day_list(request: HttpRequest) -> HttpResponse:
    """Serve the list of daily reports, newest first."""
    paginator = Paginator(DailyReconciliation.objects.all(), DAYS_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    context = {
        "page_obj": page,
        "today": timezone.localdate(),
        "mismatches": DailyReconciliation.objects.filter(ok=False).count(),
    }
    return render(request, "reconciliation/day_list.html", context)


@reconcile_page
def day_detail(request: HttpRequest, day: str) -> HttpResponse:
    """Serve one day's report, or an offer to compute it when it is missing."""
    chosen = _day(day)
    report = DailyReconciliation.objects.filter(date=chosen).first()
    context: dict[str, Any] = {"day": chosen, "report": report}
    if report is not None:
        context |= {
            "flows": _labelled_flows(report.flows),
            "cashiers": _labelled_cashiers(report.cashiers),
            "accounts_off": _labelled_accounts(report.accounts_off),
        }
    return render(request, "reconciliation/day_detail.html", context)


@reconcile_page
@require_POST
def day_recompute(request: HttpRequest, day: str) -> HttpResponse:
    chosen = _day(day)
    report = services.compute_day(chosen)
    if report.ok:
        messages.success(request, _("The report was computed again: balanced."))
    else:
        messages.error(
            request, _("The report was computed again: the ledger does not balance.")
        )
    return redirect("reconciliation:day_detail", day=chosen.isoformat())


def _labelled_flows(flows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    kinds, channels = dict(TransferKind.choices), dict(Channel.choices)
    directions = {"in": _("in"), "out": _("out")}
    return [
        flow
        | {
            "kind_label": kinds.get(flow["kind"], flow["kind"]),
            "channel_label": channels.get(flow["channel"], flow["channel"]),
            "direction_label": directions.get(flow["direction"], flow["direction"]),
        }
        for flow in flows
    ]


def _labelled_cashiers(cashiers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Name each counter actor by user name; these are staff, not citizens."""
    ids = [
        int(actor.split(":", 1)[1])
        for actor in (row["actor"] for row in cashiers)
        if actor.startswith("user:") and actor[5:].isdecimal()
    ]
    names = dict(
        get_user_model().objects.filter(pk__in=ids).values_list("pk", "username")
    )
    labelled = []
    for row in cashiers:
        actor = row["actor"]
        user_id = actor[5:] if actor.startswith("user:") else ""
        name = names.get(int(user_id)) if user_id.isdecimal() else None
        label = name or actor or _("not recorded")
        labelled.append(
            row | {"label": label, "hand_over": row["cash_in"] - row["cash_out"]}
        )
    return labelled


def _labelled_accounts(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    kinds = dict(AccountKind.choices)
    return [
        row
        | {
            "kind_label": kinds.get(row["kind"], row["kind"]),
            "difference": row["stored"] - row["from_transfers"],
        }
        for row in rows
    ]


class StatementForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Bank statement (.csv)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt"}),
    )


@reconcile_page
def statement_list(request: HttpRequest) -> HttpResponse:
    """Serve the upload form and past imports; import an uploaded statement."""
    form = StatementForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > statements.MAX_STATEMENT_BYTES:
                raise StatementRejected(
                    _("The file is larger than %(max)s; split the statement by month.")
                    % {"max": filesizeformat(statements.MAX_STATEMENT_BYTES)}
                )
            outcome = statements.import_statement(
                upload.read(), upload.name or "statement.csv", user=request.user
            )
        except StatementRejected as rejected:
            form.add_error("file", rejected.message)
        else:
            if not outcome.created:
                messages.info(request, _already_imported(outcome.statement))
            return redirect(
                "reconciliation:statement_detail", statement_id=outcome.statement.pk
            )
    context = {
        "form": form,
        "imports": StatementImport.objects.select_related("uploaded_by")[:30],
        "max_size": filesizeformat(statements.MAX_STATEMENT_BYTES),
        "header_names": {key: sorted(names) for key, names in HEADER_NAMES.items()},
    }
    status = 400 if form.errors else 200
    return render(request, "reconciliation/statement_list.html", context, status=status)


def _already_imported(statement: StatementImport) -> str:
    return _(
        "This file was already imported on %(when)s as %(name)s. Its report is "
        "shown below; nothing was counted twice."
    ) % {
        "when": date_format(
            timezone.localtime(statement.uploaded_at), "DATETIME_FORMAT"
        ),
        "name": statement.file_name,
    }


@reconcile_page
def statement_detail(request: HttpRequest, statement_id: int) -> HttpResponse:
    """Serve an import's report: counts, every mismatch and every row error."""
    statement = get_object_or_404(
        StatementImport.objects.select_related("uploaded_by"), pk=statement_id
    )
    problems = statements.mismatches(statement)
    matched = statement.lines.filter(status=LineStatus.MATCHED).select_related(
        "transfer"
    )
    counts = statements.status_counts(statement)
    context = {
        "statement": statement,
        "counts": [
            (value, label, counts[value]) for value, label in LineStatus.choices
        ],
        "problems": problems[:LINES_SHOWN],
        "problems_hidden": max(0, problems.count() - LINES_SHOWN),
        "matched": matched[:LINES_SHOWN],
        "matched_hidden": max(0, matched.count() - LINES_SHOWN),
    }
    return render(request, "reconciliation/statement_detail.html", context)


@reconcile_page
def statement_mismatches(request: HttpRequest, statement_id: int) -> HttpResponse:
    """Serve every line that is not a plain match as CSV, for a spreadsheet."""
    statement = get_object_or_404(StatementImport, pk=statement_id)
    headers = [
        _("status"),
        _("row"),
        _("booking time"),
        _("reference"),
        _("description"),
        _("credit"),
        _("debit"),
        _("transfer"),
        _("ledger amount"),
        _("explanation"),
    ]
    rows = []
    for line in statements.mismatches(statement):
        when = line.booked_on.isoformat() if line.booked_on else ""
        if line.booked_at is not None:
            when = timezone.localtime(line.booked_at).strftime("%Y-%m-%d %H:%M")
        rows.append(
            [
                line.get_status_display(),
                line.row_number or "",
                when,
                line.reference,
                line.description,
                line.credit,
                line.debit,
                line.transfer.reference if line.transfer else "",
                line.transfer.amount if line.transfer else "",
                line.message,
            ]
        )
    return _csv_response(f"statement-{statement.pk}-mismatches", headers, rows)


@reconcile_page
def statement_template(request: HttpRequest) -> HttpResponse:
    """Serve a statement in the expected layout, with two example rows."""
    headers = ["Tanggal", "Waktu", "Keterangan", "Referensi", "Kredit", "Debet"]
    rows: list[list[Any]] = [
        [
            "31/01/2025",
            "10:00:05",
            "TRF VA 88001234",
            "PRQ-20250131-0001",
            "50.000,00",
            "",
        ],
        ["31/01/2025", "15:42:10", "PENARIKAN TRX-7F3K9Q2M4P", "", "", "20.000,00"],
    ]
    return _csv_response("statement-template", headers, rows, separator=";")


def _csv_response(
    name: str, headers: list[str], rows: list[list[Any]], separator: str = ","
) -> HttpResponse:
    text = io.StringIO()
    writer = csv.writer(text, delimiter=separator)
    writer.writerow(headers)
    writer.writerows([[_inert(value) for value in row] for row in rows])
    # The BOM makes Excel read the file as UTF-8.
    response = HttpResponse(
        "\ufeff" + text.getvalue(), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def _inert(value: Any) -> Any:
    """Keep text that came from an uploaded file from opening as a formula."""
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")):
        return "'" + value
    return value
