"""Pages of cost and revenue sharing: statements and the partner's costs.

Statements need `sharing.view_statement` (admin, revenue officer, auditor);
recording and correcting costs needs `sharing.record_cost` (admin). Anyone
else signed in gets the 403 page, and a visitor goes to the login page.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from kotacerdas.journal import services as journal
from kotacerdas.sharing import display
from kotacerdas.sharing import statement as statements
from kotacerdas.sharing.forms import CorrectionForm, CostForm, StatementForm
from kotacerdas.sharing.models import PartnerCost
from kotacerdas.sharing.services import CostRejected, correct_cost, record_cost
from kotacerdas.sharing.statement_xlsx import XLSX_TYPE

VIEW_STATEMENT = "sharing.view_statement"
RECORD_COST = "sharing.record_cost"
COST_PAGE_ROWS = 200

View = Callable[..., HttpResponse]


def needs(permission: str) -> Callable[[View], View]:
    """Wrap a view so that only users with `permission` reach it."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.has_perm(permission):
                raise PermissionDenied(permission)
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorate


# ---------------------------------------------------------------- statements


def _statement_from(
    request: HttpRequest,
) -> tuple[StatementForm, statements.Statement | None]:
    """Read the month, party and position from the query and compute the statement."""
    data = request.GET if "month" in request.GET else None
    form = StatementForm(data)
    if not form.is_bound:
        form.fields["month"].initial = f"{timezone.localdate():%Y-%m}"
        return form, None
    if not form.is_valid():
        return form, None
    try:
        found = statements.compute(
            form.cleaned_data["month"],
            form.cleaned_data["party"],
            form.cleaned_data["position"],
        )
    except statements.StatementUnavailable as error:
        form.add_error(error.field, _invalid_position(error))
        return form, None
    return form, found


def _invalid_position(error: statements.StatementUnavailable) -> str:
    if error.field != "position":
        return error.message
    return _(
        "The journal has fewer entries than this position. Enter a smaller"
        " position or leave it empty."
    )


@never_cache
@require_GET
@needs(VIEW_STATEMENT)
def statement_page(request: HttpRequest) -> HttpResponse:
    """Show the month and party picker and, once chosen, the statement."""
    form, found = _statement_from(request)
    context: dict[str, Any] = {"form": form, "statement": found}
    if found is not None:
        query = (
            f"month={found.month:%Y-%m}&party={found.party}&position={found.position}"
        )
        context |= {
            "title": display.title(found),
            "summary": display.summary(found),
            "owed_explanation": display.owed_explanation(),
            "revenue_headings": display.revenue_headings(),
            "revenue_rows": _cells(display.revenue_rows(found)),
            "cost_headings": display.cost_headings(),
            "cost_rows": _cells(display.cost_rows(found)),
            "movement_headings": display.movement_headings(),
            "movement_rows": _cells(display.movement_rows(found)),
            "rules": [display.rule_text(rule) for rule in found.rules],
            "provenance": display.provenance(found),
            "ledger_agrees": _ledger_agrees(found),
            "pdf_url": f"{reverse('sharing:statement_pdf')}?{query}",
            "xlsx_url": f"{reverse('sharing:statement_xlsx')}?{query}",
        }
    status = 400 if form.is_bound and found is None else 200
    return render(request, "sharing/statement.html", context, status=status)


def _cells(rows: list[list[str | int]]) -> list[list[tuple[str, bool]]]:
    """Format each cell for the page: (text, whether it is a number)."""
    return [
        [
            (number_format(value, force_grouping=True), True)
            if isinstance(value, int)
            else (value, False)
            for value in row
        ]
        for row in rows
    ]


def _ledger_agrees(found: statements.Statement) -> bool | None:
    """Compare with the wallet's tables, which hold only the journal as it is now."""
    if found.position != journal.journal_size():
        return None
    return statements.ledger_movements(found.month) == found.movements


def _export(request: HttpRequest, kind: str) -> HttpResponse:
    _form, found = _statement_from(request)
    if found is None:
        return statement_page(request)
    if kind == "pdf":
        # fpdf2 takes about half a second to import, so only a PDF pays for it.
        from kotacerdas.sharing import statement_pdf

        content, content_type = statement_pdf.render(found), "application/pdf"
    else:
        from kotacerdas.sharing import statement_xlsx

        content, content_type = statement_xlsx.render(found), XLSX_TYPE
    response = HttpResponse(content, content_type=content_type)
    name = _("sharing-statement-%(party)s-%(month)s") % {
        "party": found.party,
        "month": f"{found.month:%Y-%m}",
    }
    disposition = "inline" if kind == "pdf" else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{name}.{kind}"'
    return response


@never_cache
@require_GET
@needs(VIEW_STATEMENT)
def statement_pdf(request: HttpRequest) -> HttpResponse:
    return _export(request, "pdf")


@never_cache
@require_GET
@needs(VIEW_STATEMENT)
def statement_xlsx(request: HttpRequest) -> HttpResponse:
    return _export(request, "xlsx")


# ---------------------------------------------------------------- costs


def _cost_list() -> list[PartnerCost]:
    rows = PartnerCost.objects.select_related("pilot", "correction", "corrects")
    return list(rows.order_by("-id")[:COST_PAGE_ROWS])


@require_http_methods(["GET", "POST"])
@needs(RECORD_COST)
def cost_list(request: HttpRequest) -> HttpResponse:
    """List the partner's costs and record a new one."""
    form = CostForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            cost = record_cost(form.cost(), user=request.user)
        except CostRejected as error:
            form.add_error(
                error.field if error.field in form.fields else None, error.message
            )
        else:
            return HttpResponseRedirect(
                f"{reverse('sharing:cost_list')}?recorded={cost.pk}"
            )
    status = 400 if form.errors else 200
    context = {
        "form": form,
        "costs": _cost_list(),
        "recorded": request.GET.get("recorded", ""),
    }
    return render(request, "sharing/costs.html", context, status=status)


@require_http_methods(["GET", "POST"])
@needs(RECORD_COST)
def cost_correct(request: HttpRequest, cost_id: int) -> HttpResponse:
    """Record a correction that replaces one cost entry."""
    original = get_object_or_404(
        PartnerCost.objects.select_related("pilot"), pk=cost_id
    )
    initial = {
        "pilot": original.pilot_id,
        "category": original.category,
        "incurred_on": original.incurred_on,
        "amount_rupiah": str(original.amount_rupiah),
        "description": original.description,
    }
    form = CorrectionForm(request.POST or None, initial=initial, pilot=original.pilot)
    if request.method == "POST" and form.is_valid():
        try:
            cost = correct_cost(
                original,
                form.cost(),
                reason=form.cleaned_data["reason"],
                user=request.user,
            )
        except CostRejected as error:
            form.add_error(
                error.field if error.field in form.fields else None, error.message
            )
        else:
            return HttpResponseRedirect(
                f"{reverse('sharing:cost_list')}?recorded={cost.pk}"
            )
    status = 400 if form.errors else 200
    context = {"form": form, "original": original}
    return render(request, "sharing/cost_correct.html", context, status=status)
