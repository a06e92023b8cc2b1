"""The import pages: upload, report, confirm, progress and downloads.

Pages are read in English (the language switch's cookie), so the assertions
keep working when the Indonesian catalogue gains these messages.
"""

import csv
import io
import json
import time
from datetime import timedelta

import openpyxl
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from openpyxl.utils import get_column_letter

from kotacerdas.accounts.services import create_user
from kotacerdas.journal.models import Entry
from kotacerdas.registry import import_batches
from kotacerdas.registry.import_files import COLUMNS
from kotacerdas.registry.models import Building, Household, ImportBatch

from .test_import import HEADERS, csv_bytes, kk, nik, row

pytestmark = pytest.mark.django_db

IMPORT_URL = "/registry/import/"


@pytest.fixture
def officer(signed_in) -> Client:
    client = signed_in("registry_officer")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def upload(client: Client, data: bytes, name: str = "bangunan.csv"):
    return client.post(IMPORT_URL, {"file": SimpleUploadedFile(name, data)})


def batch_url(batch: ImportBatch, name: str = "import_batch", **kwargs) -> str:
    return reverse(f"registry:{name}", kwargs={"batch_id": batch.pk, **kwargs})


def text(response) -> str:
    return response.content.decode()


def only_batch() -> ImportBatch:
    [batch] = ImportBatch.objects.all()
    return batch


def test_only_registry_officers_may_import(personas, signed_in):
    for persona in personas:
        response = signed_in(persona).get(IMPORT_URL)

        assert response.status_code == (200 if persona == "registry_officer" else 403)
    assert Client().get(IMPORT_URL)["Location"].startswith("/login/")


def test_start_page_explains_the_template(officer):
    page = text(officer.get(IMPORT_URL))

    assert "You may import only Kelurahan Pasar Usang" in page
    for header in HEADERS:
        assert f"<code>{header}</code>" in page
    assert "At most 20.0" in page


def test_valid_file_waits_for_confirmation(officer, personas):
    response = upload(officer, csv_bytes([row(1), row(2)]))

    batch = only_batch()
    assert response["Location"] == batch_url(batch)
    assert batch.status == ImportBatch.Status.VALIDATED
    assert (batch.row_count, batch.new_row_count, batch.error_row_count) == (2, 2, 0)
    assert not Building.objects.exists()
    page = text(officer.get(batch_url(batch)))
    assert "Import all 2 rows" in page
    assert "Read as CSV, UTF-8, ,." in page


def test_confirming_imports_every_row(officer, personas):
    upload(officer, csv_bytes([row(1), row(2)]))
    batch = only_batch()

    response = officer.post(batch_url(batch, "import_run"), {"mode": "all"})

    assert response["Location"] == batch_url(batch)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.IMPORTED
    assert (batch.buildings_created, batch.households_created) == (2, 2)
    assert Household.objects.count() == 2
    assert not import_batches.stored_path(batch).exists()
    officer_id = personas["registry_officer"].pk
    bodies = [json.loads(bytes(e.body)) for e in Entry.objects.all()]
    assert {b.get("actor") for b in bodies if b["type"].startswith("registry.")} == {
        f"user:{officer_id}"
    }
    page = text(officer.get(batch_url(batch)))
    assert "2 buildings and 2 households registered" in page


def test_bad_rows_are_listed_and_nothing_is_written(officer):
    rows = [
        row(1),
        row(2, nik_kepala_keluarga="1.37402E+15"),
        row(3, kode_kelurahan="13.74.01.1001"),
        row(4),
    ]
    upload(officer, csv_bytes(rows))
    batch = only_batch()

    page = text(officer.get(batch_url(batch)))
    refused = officer.post(batch_url(batch, "import_run"), {"mode": "all"})

    assert batch.error_row_count == 2
    assert "<td>3</td><td><code>nik_kepala_keluarga</code></td>" in page
    assert "Excel turned this number into 1.37402E+15" in page
    assert "<td>4</td><td><code>kode_kelurahan</code></td>" in page
    assert "this row is for Kelurahan Ganting" in page
    assert "Import only the 2 valid rows" in page
    assert "Import all" not in page
    assert "This import cannot start now" in text(officer.get(refused["Location"]))
    assert not Building.objects.exists()


def test_valid_rows_only_imports_the_rest(officer):
    upload(officer, csv_bytes([row(1), row(2, rt="x"), row(3)]))
    batch = only_batch()

    officer.post(batch_url(batch, "import_run"), {"mode": "valid_only"})

    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.IMPORTED
    assert (batch.imported_row_count, batch.error_row_count) == (2, 1)
    assert set(Building.objects.values_list("external_ref", flat=True)) == {
        "PU-0001",
        "PU-0003",
    }


def test_second_confirmation_does_nothing(officer):
    upload(officer, csv_bytes([row(1)]))
    batch = only_batch()
    officer.post(batch_url(batch, "import_run"), {"mode": "all"})
    entries = Entry.objects.count()

    officer.post(batch_url(batch, "import_run"), {"mode": "all"})

    assert Entry.objects.count() == entries
    assert Building.objects.count() == 1


def test_same_file_again_has_nothing_to_import(officer):
    data = csv_bytes([row(1), row(2)])
    upload(officer, data)
    officer.post(batch_url(only_batch(), "import_run"), {"mode": "all"})

    upload(officer, data)

    again = ImportBatch.objects.order_by("-created_at").first()
    assert (again.new_row_count, again.present_row_count) == (0, 2)
    assert "Nothing to import: every row is registered already." in text(
        officer.get(batch_url(again))
    )


@override_settings(KOTACERDAS_IMPORT_MAX_BYTES=1024)
def test_too_large_file_is_refused(officer):
    response = upload(officer, csv_bytes([row(n) for n in range(1, 40)]))

    assert response.status_code == 400
    assert "the largest file accepted is 1.0\xa0KB" in text(response)
    assert not ImportBatch.objects.exists()


def test_wrong_file_type_is_refused(officer):
    response = upload(officer, b"%PDF-1.4 ...", name="bangunan.pdf")

    assert response.status_code == 400
    assert "Upload a .csv or .xlsx file; bangunan.pdf is not one." in text(response)
    assert not ImportBatch.objects.exists()


def test_unreadable_file_is_reported(officer):
    upload(officer, b"nama,umur\nSiti,30\n")

    batch = only_batch()
    assert batch.status == ImportBatch.Status.REJECTED
    assert "Row 1 must contain the column headers" in batch.failure
    assert not import_batches.stored_path(batch).exists()
    assert "Upload another file" in text(officer.get(batch_url(batch)))


def test_xlsx_upload_is_checked_and_imported(officer):
    workbook = openpyxl.Workbook()
    workbook.active.append(HEADERS)
    workbook.active.append(list(row(1).values()))
    buffer = io.BytesIO()
    workbook.save(buffer)

    upload(officer, buffer.getvalue(), name="bangunan.xlsx")

    batch = only_batch()
    assert (batch.file_format, batch.status) == ("xlsx", ImportBatch.Status.VALIDATED)
    assert batch.new_row_count == 1
    assert import_batches.kept_rows_path(batch).exists()

    officer.post(batch_url(batch, "import_run"), {"mode": "all"})

    assert Building.objects.count() == 1
    assert not import_batches.kept_rows_path(batch).exists()
    assert not import_batches.stored_path(batch).exists()


def test_other_officers_cannot_see_an_import(officer, city):
    upload(officer, csv_bytes([row(1)]))
    batch = only_batch()
    colleague = create_user("officer-2", "password-2-long", ["registry_officer"])
    client = Client()
    client.force_login(colleague)

    assert client.get(batch_url(batch)).status_code == 404
    assert client.post(batch_url(batch, "import_run"), {"mode": "all"}).status_code == (
        404
    )
    assert not Building.objects.exists()


def test_city_wide_officer_may_import_any_kelurahan(city):
    colleague = create_user("city-officer", "password-2-long", ["registry_officer"])
    client = Client()
    client.force_login(colleague)

    upload(client, csv_bytes([row(1, kode_kelurahan="13.74.01.1001")]))

    assert only_batch().error_row_count == 0


def test_htmx_gets_the_status_panel_only(officer):
    upload(officer, csv_bytes([row(1)]))

    response = officer.get(batch_url(only_batch()), headers={"HX-Request": "true"})

    assert text(response).lstrip().startswith('<div id="import-status"')
    assert "<html" not in text(response)


def test_running_import_polls_for_progress(officer):
    upload(officer, csv_bytes([row(1)]))
    batch = only_batch()
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportBatch.Status.IMPORTING, rows_done=40, rows_estimated=100
    )

    page = text(officer.get(batch_url(batch)))

    assert 'hx-trigger="every 1s"' in page
    assert '<progress max="100" value="40">' in page
    assert "40 of about 100 rows" in page


def test_stalled_import_can_start_again(officer):
    upload(officer, csv_bytes([row(1), row(2)]))
    batch = only_batch()
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportBatch.Status.IMPORTING,
        mode=ImportBatch.Mode.ALL,
        heartbeat_at=timezone.now() - timedelta(minutes=10),
    )

    page = text(officer.get(batch_url(batch)))
    officer.post(batch_url(batch, "import_run"), {"mode": "all"})

    assert "has made no progress for five minutes" in page
    assert "Start the import again" in page
    assert 'hx-trigger="every 1s"' not in page
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.IMPORTED
    assert Building.objects.count() == 2


def test_problem_list_downloads(officer):
    upload(officer, csv_bytes([row(1, rw="nol"), row(2, daya_listrik_va="")]))
    batch = only_batch()

    as_csv = officer.get(batch_url(batch, "import_problems", file_format="csv"))
    as_xlsx = officer.get(batch_url(batch, "import_problems", file_format="xlsx"))

    assert as_csv["Content-Type"] == "text/csv; charset=utf-8"
    lines = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert lines[0] == ["row", "column", "level", "message"]
    assert lines[1][:3] == ["2", "rw", "error"]
    assert lines[2][:3] == ["3", "daya_listrik_va", "warning"]
    sheet = openpyxl.load_workbook(io.BytesIO(as_xlsx.content)).active
    assert [cell.value for cell in sheet[2]][:3] == [2, "rw", "error"]
    assert officer.get(
        batch_url(batch, "import_problems", file_format="pdf")
    ).status_code == (404)


def test_problem_list_holds_no_formulas(officer):
    headers = ["=ref" if h == "ref" else h for h in HEADERS]
    rows = [{**row(1, rw="nol"), "=ref": "PU-0001"}, {**row(2), "=ref": ""}]
    upload(officer, csv_bytes(rows, headers=headers))
    batch = only_batch()

    as_xlsx = officer.get(batch_url(batch, "import_problems", file_format="xlsx"))

    sheet = openpyxl.load_workbook(io.BytesIO(as_xlsx.content)).active
    assert [cell.value for cell in sheet["B"]][1:] == ["rw", "'=ref"]
    assert sheet["B3"].data_type == "s"


def test_templates_download(officer, tmp_path):
    as_csv = officer.get(reverse("registry:import_template", args=["csv"]))
    as_xlsx = officer.get(reverse("registry:import_template", args=["xlsx"]))

    headers = [column.header for column in COLUMNS]
    assert as_csv.content.decode("utf-8-sig").strip() == ",".join(headers)
    workbook = openpyxl.load_workbook(io.BytesIO(as_xlsx.content))
    data, guide = workbook.worksheets
    assert [cell.value for cell in data[1]] == headers
    nik_column = get_column_letter(headers.index("nik_kepala_keluarga") + 1)
    assert data.column_dimensions[nik_column].number_format == "@"
    assert guide["A2"].value == "ref"
    # The downloaded template, filled in, is accepted as it is.
    data.append([row(1).get(header, "") for header in headers])
    path = tmp_path / "filled.xlsx"
    workbook.save(path)
    upload(officer, path.read_bytes(), name="filled.xlsx")
    assert only_batch().new_row_count == 1


@pytest.mark.django_db(transaction=True)
def test_large_files_run_in_the_background(signed_in, monkeypatch):
    monkeypatch.setattr(import_batches, "BACKGROUND_FROM_BYTES", 0)
    client = signed_in("registry_officer")
    rows = [row(n) for n in range(1, 30)]
    rows.append({"ref": "PU-0001", "no_kk": kk(99), "nik_kepala_keluarga": nik(99)})
    rows[-1]["nama_kepala_keluarga"] = "Warga Terakhir"

    upload(client, csv_bytes(rows))
    batch = wait_for(ImportBatch.Status.VALIDATED)
    client.post(batch_url(batch, "import_run"), {"mode": "all"})
    batch = wait_for(ImportBatch.Status.IMPORTED)

    assert (batch.buildings_created, batch.households_created) == (29, 30)
    assert batch.rows_done == 30


def wait_for(status: str, timeout_s: float = 30) -> ImportBatch:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        batch = only_batch()
        if batch.status == status:
            return batch
        time.sleep(0.1)
    pytest.fail(f"the import did not reach {status}; it is {only_batch().status}")
