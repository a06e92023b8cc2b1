"""Drill-down lists behind the dashboard's figures, and their CSV/XLSX exports.

Both views check the filters the same way. Bad filters give the list page
with status 400 and one message per problem. An export larger than its cap
gives the page with status 400 and a hint to narrow the filters.
"""

from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from kotacerdas.command import lists_export
from kotacerdas.command.access import dashboard_view
from kotacerdas.command.display import figure_value
from kotacerdas.command.figures import FIGURES, Period, StoredTallies
from kotacerdas.command.lists import PAGE_SIZE, ListDef, Selection
from kotacerdas.command.lists_defs import LISTS
from kotacerdas.command.lists_form import ListForm
from kotacerdas.wallet.display import rupiah


@dataclass(frozen=True)
class Heading:
    """A column heading with the sort value its link sets."""

    label: str
    key: str
    sort_link: str | None
    # "ascending", "descending" or "" for aria-sort.
    sorted: str
    numeric: bool


def _definition(name: str) -> ListDef:
    definition = LISTS.get(name)
    if definition is None:
        raise Http404(_("There is no list named “%(name)s”.") % {"name": name})
    return definition


@dashboard_view
def list_view(request: HttpRequest, name: str) -> HttpResponse:
    """Show one page of a list with its filters, count, totals and exports."""
    definition = _definition(name)
    form = ListForm(definition, request.GET)
    if not form.is_valid():
        return _render(request, definition, form, None, status=400)
    return _render(request, definition, form, form.selection(Period.current()))


@dashboard_view
def export_view(request: HttpRequest, name: str, file_format: str) -> HttpResponse:
    """Send the whole filtered list as CSV (streamed) or XLSX."""
    definition = _definition(name)
    if file_format not in lists_export.FORMATS:
        raise Http404(file_format)
    form = ListForm(definition, request.GET)
    if not form.is_valid():
        return _render(request, definition, form, None, status=400)
    selection = form.selection(Period.current())
    count = selection.filtered().count()
    if lists_export.too_many(count, file_format):
        notice = _too_many_text(count, file_format)
        return _render(request, definition, form, selection, status=400, notice=notice)
    # Both are sent like an HttpResponse; `dashboard_view` is typed for that.
    if file_format == "xlsx":
        return cast(HttpResponse, lists_export.xlsx_response(selection))
    return cast(HttpResponse, lists_export.csv_response(selection))


def _too_many_text(count: int, file_format: str) -> str:
    return _(
        "This list has %(count)s rows, more than the %(limit)s a %(format)s file"
        " may hold. Narrow the filters (a kelurahan, a shorter period or a"
        " status) and download again."
    ) % {
        "count": number_format(count, force_grouping=True),
        "limit": number_format(lists_export.MAX_ROWS[file_format], force_grouping=True),
        "format": file_format.upper(),
    }


def _render(
    request: HttpRequest,
    definition: ListDef,
    form: ListForm,
    selection: Selection | None,
    *,
    status: int = 200,
    notice: str = "",
) -> HttpResponse:
    context: dict[str, Any] = {
        "definition": definition,
        "form": form,
        "errors": form.error_lines() if form.is_bound and form.errors else [],
        "notice": notice,
        "page": None,
    }
    if selection is not None:
        context.update(_results(request, selection))
    return render(request, "command/list.html", context, status=status)


def _results(request: HttpRequest, selection: Selection) -> dict[str, Any]:
    definition = selection.definition
    page = Paginator(selection.ordered(), PAGE_SIZE).get_page(request.GET.get("page"))
    count = page.paginator.count
    columns = definition.columns
    rows = [
        [
            (lists_export.display(column, value), column)
            for column, value in zip(columns, row, strict=True)
        ]
        for row in page.object_list
    ]
    totals = selection.totals() if count else {}
    params = urlencode(selection.query_params())
    return {
        "page": page,
        "rows": rows,
        "count_text": definition.count_text(count),
        "headings": _headings(selection),
        "totals": [
            (column.label, rupiah(totals[column.key]), column.key)
            if column.kind == "rupiah"
            else (
                column.label,
                number_format(totals[column.key], force_grouping=True),
                column.key,
            )
            for column in columns
            if column.key in totals
        ],
        "exports": [
            (
                file_format,
                lists_export.too_many(count, file_format),
                params,
                lists_export.MAX_ROWS[file_format],
            )
            for file_format in lists_export.FORMATS
        ],
        "figures": _matching_figures(selection),
    }


def _headings(selection: Selection) -> list[Heading]:
    current = selection.sort or selection.definition.default_sort
    headings = []
    for column in selection.definition.columns:
        state = ""
        if current == column.key:
            state = "ascending"
        elif current == f"-{column.key}":
            state = "descending"
        link = None
        if column.sortable:
            link = f"-{column.key}" if state == "ascending" else column.key
        numeric = column.kind in ("rupiah", "number")
        headings.append(Heading(str(column.label), column.key, link, state, numeric))
    return headings


def _matching_figures(selection: Selection) -> list[tuple[str, str]]:
    """Return the dashboard figures whose drill link shows exactly these rows."""
    current = selection.query_params()
    current.pop("sort", None)
    tallies = StoredTallies()
    found = []
    for figure in FIGURES:
        name, params = figure.drill
        if name != selection.definition.name:
            continue
        drilled = ListForm(selection.definition, QueryDict(urlencode(params)))
        if not drilled.is_valid():
            continue
        if drilled.selection(selection.period).query_params() != current:
            continue
        value = figure.compute(tallies, selection.period)
        found.append((str(figure.label), figure_value(figure.unit, value)))
    return found
