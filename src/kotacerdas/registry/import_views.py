"""The import pages: upload a spreadsheet, read its report, confirm, follow progress.

Every page needs `registry.import_registry`, and an officer can open only
the imports she uploaded. Nothing reaches the registry before she presses an
import button: uploading stores the file and checks it (import_batches).
"""

import csv
import io
from collections.abc import Callable
from functools import wraps
from typing import Any

import openpyxl
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from openpyxl.styles import Font

from kotacerdas.registry import import_batches
from kotacerdas.registry.import_files import COLUMNS, FileRejected
from kotacerdas.registry.models import ImportBatch

View = Callable[..., HttpResponse]
PROBLEMS_SHOWN = 1000
RUNNING = (ImportBatch.Status.VALIDATING, ImportBatch.Status.IMPORTING)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def import_page(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.has_perm("registry.import_registry"):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return login_required(wrapper)


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Spreadsheet (.xlsx or .csv)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv,.txt"}),
    )


@import_page
def import_start(request: HttpRequest) -> HttpResponse:
    """Serve the upload form; store and check an uploaded file."""
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            batch = import_batches.receive_upload(
                form.cleaned_data["file"], request.user
            )
        except FileRejected as rejected:
            form.add_error("file", rejected.message)
        else:
            import_batches.run_job(batch, import_batches.check_batch)
            return redirect("registry:import_batch", batch_id=batch.pk)
    context = {
        "form": form,
        "columns": COLUMNS,
        "max_size": filesizeformat(settings.KOTACERDAS_IMPORT_MAX_BYTES),
        "recent": ImportBatch.objects.filter(created_by_id=request.user.pk).defer(
            "problems"
        )[:10],
    }
    return render(
        request, "registry/import.html", context, status=400 if form.errors else 200
    )


def _own_batch(request: HttpRequest, batch_id: Any) -> ImportBatch:
    # The problem list can run to megabytes; it is loaded only when shown.
    batch = get_object_or_404(
        ImportBatch.objects.select_related("kelurahan").defer("problems"),
        pk=batch_id,
    )
    if batch.created_by_id != request.user.pk:
        raise Http404
    return batch


def _stalled(batch: ImportBatch) -> bool:
    limit = timezone.now() - import_batches.STALE_AFTER
    return batch.status in RUNNING and batch.heartbeat_at < limit


@import_page
def import_batch(request: HttpRequest, batch_id: Any) -> HttpResponse:
    """Serve an import's report, or only its status panel to HTMX polling."""
    batch = _own_batch(request, batch_id)
    stalled = _stalled(batch)
    can_restart = (stalled and batch.status == ImportBatch.Status.IMPORTING) or (
        batch.status == ImportBatch.Status.FAILED and batch.started_at is not None
    )
    percent = None
    if batch.rows_estimated:
        percent = min(100, round(100 * batch.rows_done / batch.rows_estimated))
    context = {
        "batch": batch,
        "running": batch.status in RUNNING and not stalled,
        "stalled": stalled,
        "percent": percent,
        "can_restart": can_restart,
    }
    if not context["running"]:
        problems = batch.problems
        context["problems"] = problems[:PROBLEMS_SHOWN]
        hidden = max(0, len(problems) - PROBLEMS_SHOWN) + batch.problems_omitted
        context["problems_hidden"] = hidden
    is_htmx = bool(getattr(request, "htmx", False))
    template = (
        "registry/partials/import_status.html"
        if is_htmx
        else "registry/import_batch.html"
    )
    return render(request, template, context)


@import_page
@require_POST
def import_run(request: HttpRequest, batch_id: Any) -> HttpResponse:
    """Start importing a checked file: all rows, or only the valid ones."""
    batch = _own_batch(request, batch_id)
    mode = request.POST.get("mode", "")
    started = import_batches.start_import(batch, mode)
    batch.refresh_from_db()
    # A second press of the button finds the import running or done already.
    if not started and batch.status not in (
        ImportBatch.Status.IMPORTING,
        ImportBatch.Status.IMPORTED,
    ):
        messages.error(
            request,
            _(
                "This import cannot start now. A file with errors can import only its valid rows, and a file that is still being checked or could not be read cannot be imported."
            ),
        )
    return redirect("registry:import_batch", batch_id=batch.pk)


@import_page
def import_problems(
    request: HttpRequest, batch_id: Any, file_format: str
) -> HttpResponse:
    """Download every error and warning of an import as CSV or XLSX."""
    batch = _own_batch(request, batch_id)
    headers = [_("row"), _("column"), _("level"), _("message")]
    levels = {"error": _("error"), "warning": _("warning")}
    rows = [
        [
            item["row"],
            item["column"],
            levels.get(item["level"], item["level"]),
            item["message"],
        ]
        for item in batch.problems
    ]
    name = f"{_('import-problems')}-{batch.created_at:%Y%m%d-%H%M}"
    return _spreadsheet(file_format, name, headers, rows)


@import_page
def import_template(request: HttpRequest, file_format: str) -> HttpResponse:
    """Download the empty template, with a sheet explaining each column in XLSX."""
    headers = [column.header for column in COLUMNS]
    if file_format == "csv":
        return _spreadsheet("csv", _("import-template"), headers, [])
    workbook = openpyxl.Workbook()
    data = workbook.active
    data.title = "Data"
    data.append(headers)
    for index, column in enumerate(COLUMNS, start=1):
        letter = openpyxl.utils.get_column_letter(index)
        data.cell(row=1, column=index).font = Font(bold=True)
        data.column_dimensions[letter].width = max(12, len(column.header) + 2)
        if column.kind in ("identity", "phone"):
            # Text columns keep all 16 digits of a NIK and the 0 of a phone.
            data.column_dimensions[letter].number_format = "@"
    guide = workbook.create_sheet(_("Guide"))
    guide.append([_("column"), _("what to write"), _("example")])
    for column in COLUMNS:
        guide.append([column.header, str(column.description), column.example])
    return _workbook_response(workbook, _("import-template"))


def _spreadsheet(
    file_format: str, name: str, headers: list[str], rows: list[list[Any]]
) -> HttpResponse:
    rows = [[_inert(value) for value in row] for row in rows]
    if file_format == "xlsx":
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.append(headers)
        for row in rows:
            sheet.append(row)
        return _workbook_response(workbook, name)
    if file_format != "csv":
        raise Http404
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(headers)
    writer.writerows(rows)
    # The BOM makes Excel read the file as UTF-8.
    response = HttpResponse(
        "\ufeff" + text.getvalue(), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def _inert(value: Any) -> Any:
    """Keep text that came from an uploaded file from opening as a formula."""
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@")):
        return "'" + value
    return value


def _workbook_response(workbook: openpyxl.Workbook, name: str) -> HttpResponse:
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response
