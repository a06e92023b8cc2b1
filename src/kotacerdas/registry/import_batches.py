"""Uploaded registry spreadsheets: storing them, and checking and importing them.

A file is kept under var/imports/ from upload until its import ends, because
nothing is written to the registry before the officer confirms. It is checked
and imported in the web process: synchronously when it is small, otherwise in
a thread, with progress recorded per chunk on its ImportBatch for the page to
poll. A run that dies with its process stops moving the batch's heartbeat, so
the page offers to start the import again, which skips the rows already
written.
"""

import hashlib
import logging
import os
import threading
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import connections
from django.db.models import Q
from django.template.defaultfilters import filesizeformat
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kotacerdas.registry.import_files import ZIP_MAGIC, FileRejected, detect_format
from kotacerdas.registry.importer import Outcome, Progress, process_file
from kotacerdas.registry.models import ImportBatch

logger = logging.getLogger(__name__)

# About 400 CSV rows: a file this small is done before the page loads.
BACKGROUND_FROM_BYTES = 64 * 1024
STALE_AFTER = timedelta(minutes=5)
KEEP_UNUSED_FILES = timedelta(days=1)

Job = Callable[[uuid.UUID, str], None]


def import_dir() -> Path:
    return Path(settings.VAR_DIR) / "imports"


def stored_path(batch: ImportBatch) -> Path:
    return import_dir() / f"{batch.pk}.{batch.file_format}"


def kept_rows_path(batch: ImportBatch) -> Path:
    """Where checking an XLSX file keeps its rows for the import to read."""
    return import_dir() / f"{batch.pk}.rows.jsonl"


def delete_files(batch: ImportBatch) -> None:
    stored_path(batch).unlink(missing_ok=True)
    kept_rows_path(batch).unlink(missing_ok=True)


def receive_upload(upload: UploadedFile, user: Any) -> ImportBatch:
    """Store an uploaded file and create its batch; raise FileRejected if unfit."""
    name, file_format = _accepted(upload)
    discard_unused_files()
    batch = ImportBatch(
        created_by=user,
        kelurahan=getattr(user, "kelurahan", None),
        file_name=name,
        file_format=file_format,
        size_bytes=upload.size or 0,
    )

    import_dir().mkdir(parents=True, exist_ok=True, mode=0o700)
    digest = hashlib.sha256()
    with stored_path(batch).open("xb") as stored:
        os.fchmod(stored.fileno(), 0o600)
        for part in upload.chunks():
            stored.write(part)
            digest.update(part)
    batch.sha256 = digest.hexdigest()
    batch.save()
    logger.info("import %s received", batch.pk, extra={"import_id": str(batch.pk)})
    return batch


def _accepted(upload: UploadedFile) -> tuple[str, str]:
    """Return the file's name and format, or raise FileRejected for its size or type."""
    limit = settings.KOTACERDAS_IMPORT_MAX_BYTES
    size = upload.size or 0
    if size > limit:
        raise FileRejected(
            _(
                "The file is %(size)s; the largest file accepted is %(limit)s. Split it into smaller files."
            )
            % {"size": filesizeformat(size), "limit": filesizeformat(limit)}
        )
    if size == 0:
        raise FileRejected(_("The file is empty."))
    name = Path(upload.name or "").name[:200]
    upload.seek(0)
    file_format = detect_format(name, upload.read(len(ZIP_MAGIC)))
    upload.seek(0)
    return name, file_format


def discard_unused_files() -> None:
    """Delete files that were checked but never imported within a day."""
    old = ImportBatch.objects.filter(
        status__in=[ImportBatch.Status.VALIDATED, ImportBatch.Status.VALIDATING],
        heartbeat_at__lt=timezone.now() - KEEP_UNUSED_FILES,
    )
    for batch in old:
        delete_files(batch)
    old.update(
        status=ImportBatch.Status.FAILED,
        failure=_("The file was deleted after a day without import; upload it again."),
    )


def run_job(batch: ImportBatch, job: Job) -> None:
    """Run a check or import now for a small file, or in a thread for a large one."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    if batch.size_bytes < BACKGROUND_FROM_BYTES:
        job(batch.pk, language)
        return
    threading.Thread(
        target=_in_thread, args=(job, batch.pk, language), daemon=True
    ).start()


def _in_thread(job: Job, batch_id: uuid.UUID, language: str) -> None:
    try:
        job(batch_id, language)
    finally:
        connections.close_all()


def _recorder(batch_id: uuid.UUID) -> Progress:
    def record(rows_done: int, rows_estimated: int | None) -> None:
        ImportBatch.objects.filter(pk=batch_id).update(
            rows_done=rows_done,
            rows_estimated=rows_estimated,
            heartbeat_at=timezone.now(),
        )

    return record


def _outcome_fields(outcome: Outcome) -> dict[str, Any]:
    return {
        "read_as": outcome.read_as[:100],
        "unknown_columns": outcome.unknown_columns,
        "row_count": outcome.rows,
        "rows_done": outcome.rows,
        "error_row_count": outcome.error_rows,
        "new_row_count": outcome.new_rows,
        "present_row_count": outcome.present_rows,
        "warning_count": outcome.warnings,
        "problems": [problem.as_dict() for problem in outcome.problems],
        "problems_omitted": outcome.problems_omitted,
        "heartbeat_at": timezone.now(),
    }


def check_batch(batch_id: uuid.UUID, language: str) -> None:
    """Check every row of a stored file and record the report on its batch."""
    with translation.override(language):
        batch = ImportBatch.objects.select_related("kelurahan").get(pk=batch_id)
        try:
            outcome = process_file(
                stored_path(batch),
                batch.file_format,
                scope=batch.kelurahan,
                progress=_recorder(batch_id),
                keep_rows_at=kept_rows_path(batch),
            )
        except FileRejected as error:
            logger.info("import %s rejected: file not readable", batch_id)
            _stop(batch, ImportBatch.Status.REJECTED, error.message)
            return
        except Exception:
            logger.exception("checking import %s failed", batch_id)
            _stop(batch, ImportBatch.Status.FAILED, _unexpected())
            return
        ImportBatch.objects.filter(
            pk=batch_id, status=ImportBatch.Status.VALIDATING
        ).update(status=ImportBatch.Status.VALIDATED, **_outcome_fields(outcome))
        logger.info("import %s checked", batch_id, extra={"import_id": str(batch_id)})


def start_import(batch: ImportBatch, mode: str) -> bool:
    """Claim a checked batch for importing and run it; False when it is not ready.

    "all" needs a report without errors. A batch whose import failed or went
    silent (its process died) may be started again: rows already written are
    found registered and skipped.
    """
    now = timezone.now()
    ready = (
        Q(status=ImportBatch.Status.VALIDATED)
        | Q(status=ImportBatch.Status.IMPORTING, heartbeat_at__lt=now - STALE_AFTER)
        | Q(status=ImportBatch.Status.FAILED, started_at__isnull=False)
    )
    if mode == ImportBatch.Mode.ALL:
        ready &= Q(error_row_count=0)
    elif mode != ImportBatch.Mode.VALID_ONLY:
        return False
    claimed = ImportBatch.objects.filter(ready, pk=batch.pk).update(
        status=ImportBatch.Status.IMPORTING,
        mode=mode,
        started_at=now,
        heartbeat_at=now,
        rows_done=0,
        failure="",
    )
    if claimed != 1:
        return False
    run_job(batch, import_batch)
    return True


def import_batch(batch_id: uuid.UUID, language: str) -> None:
    """Import the valid rows of a claimed batch and record what happened."""
    with translation.override(language):
        batch = ImportBatch.objects.select_related("kelurahan", "created_by").get(
            pk=batch_id
        )
        path, file_format = kept_rows_path(batch), "rows"
        if not path.exists():
            path, file_format = stored_path(batch), batch.file_format
        try:
            outcome = process_file(
                path,
                file_format,
                scope=batch.kelurahan,
                write=True,
                actor=batch.created_by,
                progress=_recorder(batch_id),
            )
        except Exception:
            logger.exception("import %s failed", batch_id)
            _stop(batch, ImportBatch.Status.FAILED, _unexpected())
            return
        ImportBatch.objects.filter(pk=batch_id).update(
            status=ImportBatch.Status.IMPORTED,
            imported_row_count=outcome.new_rows,
            buildings_created=outcome.buildings_created,
            households_created=outcome.households_created,
            finished_at=timezone.now(),
            **_outcome_fields(outcome),
        )
        delete_files(batch)
        logger.info(
            "import %s imported %s rows",
            batch_id,
            outcome.new_rows,
            extra={"import_id": str(batch_id)},
        )


def _unexpected() -> str:
    return _(
        "The import stopped on an unexpected error, recorded in the server log. Rows imported before it stay registered; start the import again to add the rest."
    )


def _stop(batch: ImportBatch, status: str, failure: str) -> None:
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=status,
        failure=failure[:500],
        finished_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )
    if status == ImportBatch.Status.REJECTED:
        delete_files(batch)
