"""Reading, checking and importing registry spreadsheets (registry.importer)."""

import codecs
import csv
import io
import json
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from kotacerdas.city.models import Area
from kotacerdas.journal.keys import node_verifier
from kotacerdas.journal.models import Entry
from kotacerdas.journal.services import seal_pending
from kotacerdas.journal.verify import verify_ledger
from kotacerdas.registry import import_files
from kotacerdas.registry.import_files import FileRejected, detect_format
from kotacerdas.registry.importer import Outcome, process_file
from kotacerdas.registry.models import Building, Household, Member
from kotacerdas.registry.services import (
    MemberInput,
    change_building,
    find_household_by_kk,
    find_member_by_nik,
    register_building,
    register_household,
)

from .conftest import HEAD_NIK, KK_NUMBER, building_input

pytestmark = pytest.mark.django_db

HEADERS = [
    "ref", "kode_kelurahan", "rw", "rt", "alamat", "lintang", "bujur",
    "penggunaan", "jumlah_lantai", "luas_lantai_m2", "daya_listrik_va",
    "status_bangunan", "no_kk", "nik_kepala_keluarga", "nama_kepala_keluarga",
    "telepon",
]  # fmt: skip


def nik(serial: int) -> str:
    """A synthetic NIK: Padang Panjang Barat, male, born 1 Jan 1990."""
    return f"137402010190{serial:04d}"


def kk(serial: int) -> str:
    """A synthetic KK number issued 1 Jan 2015 in Padang Panjang Barat."""
    return f"137402010115{serial:04d}"


def row(serial: int = 1, **changes: str) -> dict[str, str]:
    values = {
        "ref": f"PU-{serial:04d}",
        "kode_kelurahan": "13.74.02.1002",
        "rw": "2",
        "rt": "3",
        "alamat": f"Jl. Sutan Syahrir No. {serial}",
        "lintang": "-0.4651",
        "bujur": "100.4002",
        "penggunaan": "rumah",
        "jumlah_lantai": "1",
        "luas_lantai_m2": "72",
        "daya_listrik_va": "1300",
        "status_bangunan": "aktif",
        "no_kk": kk(serial),
        "nik_kepala_keluarga": nik(serial),
        "nama_kepala_keluarga": f"Warga Nomor {serial}",
        "telepon": "081234567890",
    }
    values.update(changes)
    return values


def csv_bytes(
    rows: list[dict[str, str]],
    *,
    headers: list[str] = HEADERS,
    separator: str = ",",
    encoding: str = "utf-8",
    bom: bool = False,
) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, delimiter=separator)
    writer.writerow(headers)
    writer.writerows([values.get(h, "") for h in headers] for values in rows)
    return (codecs.BOM_UTF8 if bom else b"") + text.getvalue().encode(encoding)


def write_csv(path: Path, rows: list[dict[str, str]], **options) -> Path:
    path.write_bytes(csv_bytes(rows, **options))
    return path


def write_xlsx(path: Path, rows: list[list[object]], headers=HEADERS) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for cells in rows:
        sheet.append(cells)
    workbook.save(path)
    return path


def check(path: Path, file_format: str = "csv", **options) -> Outcome:
    return process_file(path, file_format, **options)


def problems(outcome: Outcome) -> set[tuple[int, str]]:
    return {(p.row, p.column) for p in outcome.problems if p.level == "error"}


def messages(outcome: Outcome) -> list[str]:
    return [p.message for p in outcome.problems]


# Reading files -----------------------------------------------------------------


def test_bom_and_semicolons_are_detected(city, tmp_path):
    path = write_csv(tmp_path / "data.csv", [row(1), row(2)], separator=";", bom=True)

    outcome = check(path)

    assert outcome.read_as == "CSV, UTF-8 BOM, ;"
    assert (outcome.rows, outcome.error_rows, outcome.new_rows) == (2, 0, 2)


def test_windows_1252_text_is_read(city, tmp_path):
    name = "Nur\u2019aini Caf\u00e9"  # a right single quote and é, as Excel writes them
    path = write_csv(
        tmp_path / "data.csv",
        [row(1, nama_kepala_keluarga=name)],
        encoding="cp1252",
    )

    outcome = check(path, write=True)

    assert outcome.read_as == "CSV, Windows-1252, ,"
    assert outcome.households_created == 1
    assert find_member_by_nik(nik(1)).full_name == name


def test_tab_separated_utf16_is_read(city, tmp_path):
    path = tmp_path / "data.txt"
    text = "\t".join(HEADERS) + "\r\n" + "\t".join(row(1).values()) + "\r\n"
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))

    outcome = check(path)

    assert outcome.read_as == "CSV, UTF-16, tab"
    assert (outcome.rows, outcome.error_rows) == (1, 0)


def test_excel_separator_hint_line_is_skipped(city, tmp_path):
    path = write_csv(tmp_path / "data.csv", [row(1, rw="x")], separator=";")
    path.write_bytes(b"sep=;\r\n" + path.read_bytes())

    outcome = check(path)

    assert problems(outcome) == {(2, "rw")}


def test_xlsx_rows_are_imported(city, tmp_path):
    values = row(1)
    cells: list[object] = [values[h] for h in HEADERS]
    cells[HEADERS.index("daya_listrik_va")] = 1300.0
    cells[HEADERS.index("rw")] = 2
    cells[HEADERS.index("lintang")] = -0.4651
    path = write_xlsx(tmp_path / "data.xlsx", [cells])

    outcome = check(path, "xlsx", write=True)

    assert outcome.read_as == "XLSX, Sheet"
    assert (outcome.buildings_created, outcome.households_created) == (1, 1)
    building = Building.objects.get(external_ref="PU-0001")
    assert building.pln_va == 1300
    assert building.unit.rw == "002"
    assert str(building.lat) == "-0.465100"


def test_xlsx_data_may_follow_an_instructions_sheet(city, tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.append(["Petunjuk", "Isi lembar berikutnya"])
    data = workbook.create_sheet("Data")
    data.append(HEADERS)
    data.append(list(row(1).values()))
    path = tmp_path / "data.xlsx"
    workbook.save(path)

    outcome = check(path, "xlsx")

    assert outcome.read_as == "XLSX, Data"
    assert outcome.rows == 1


def test_nik_in_scientific_notation_is_explained(city, tmp_path):
    csv_path = write_csv(
        tmp_path / "data.csv", [row(1, nik_kepala_keluarga="1.37402E+15")]
    )
    cells: list[object] = list(row(1).values())
    cells[HEADERS.index("nik_kepala_keluarga")] = 1.37402e15
    cells[HEADERS.index("no_kk")] = 1374020101150001
    xlsx_path = write_xlsx(tmp_path / "data.xlsx", [cells])

    from_csv = check(csv_path)
    from_xlsx = check(xlsx_path, "xlsx")

    expected = (
        "Excel turned this number into 1.37402E+15 and lost its last digits; "
        "format the column as Text and type the number again."
    )
    assert problems(from_csv) == {(2, "nik_kepala_keluarga")}
    assert messages(from_csv) == [expected]
    assert problems(from_xlsx) == {(2, "nik_kepala_keluarga"), (2, "no_kk")}
    assert set(messages(from_xlsx)) == {expected}


def test_excel_number_quirks_are_undone(city, tmp_path):
    path = write_csv(
        tmp_path / "data.csv",
        [
            row(
                1,
                daya_listrik_va="1300.0",
                rw="2,0",
                luas_lantai_m2="1.200",
                nik_kepala_keluarga="'" + nik(1),
                no_kk="'" + kk(1),
            )
        ],
    )

    outcome = check(path, write=True)

    assert outcome.error_rows == 0
    building = Building.objects.get(external_ref="PU-0001")
    assert (building.pln_va, building.unit.rw, building.floor_area_m2) == (
        1300,
        "002",
        1200,
    )
    assert find_member_by_nik(nik(1)) is not None
    assert find_household_by_kk(kk(1)) is not None


def test_fraction_in_whole_number_column_is_an_error(city, tmp_path):
    path = write_csv(tmp_path / "data.csv", [row(1, daya_listrik_va="1300.5")])

    outcome = check(path)

    assert problems(outcome) == {(2, "daya_listrik_va")}
    assert messages(outcome) == ["Enter a whole number, such as 1300."]


def test_date_made_by_excel_is_explained(city, tmp_path):
    cells: list[object] = list(row(1).values())
    cells[HEADERS.index("rt")] = datetime(2024, 3, 1)
    path = write_xlsx(tmp_path / "data.xlsx", [cells])

    outcome = check(path, "xlsx")

    assert problems(outcome) == {(2, "rt")}
    assert "Excel turned this cell into a date" in messages(outcome)[0]


def test_missing_columns_reject_the_file(city, tmp_path):
    headers = [h for h in HEADERS if h not in ("rw", "alamat", "nik_kepala_keluarga")]
    path = write_csv(tmp_path / "data.csv", [row(1)], headers=headers)

    with pytest.raises(FileRejected) as caught:
        check(path)

    assert caught.value.message == (
        "Add the missing columns to row 1: rw, alamat, nik_kepala_keluarga."
    )


def test_file_without_headers_is_rejected(city, tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("1,2,3\n4,5,6\n")

    with pytest.raises(FileRejected) as caught:
        check(path)

    assert "Row 1 must contain the column headers" in caught.value.message


def test_duplicate_header_is_rejected(city, tmp_path):
    path = write_csv(tmp_path / "data.csv", [], headers=[*HEADERS, "Address"])

    with pytest.raises(FileRejected) as caught:
        check(path)

    assert caught.value.message == (
        'The columns "alamat" and "Address" both mean alamat; keep one.'
    )


def test_unknown_headers_are_listed_and_ignored(city, tmp_path):
    headers = [*HEADERS, "Keterangan"]
    path = write_csv(
        tmp_path / "data.csv", [row(1, Keterangan="rumah sudut")], headers=headers
    )

    outcome = check(path)

    assert outcome.unknown_columns == ["Keterangan"]
    assert (outcome.rows, outcome.error_rows) == (1, 0)


def test_value_without_header_is_an_error(city, tmp_path):
    path = write_csv(tmp_path / "data.csv", [row(1)])
    lines = path.read_text().splitlines()
    lines[1] += ",Jl. Tambahan"
    path.write_text("\n".join(lines) + "\n")

    outcome = check(path)

    assert problems(outcome) == {(2, "column Q")}


def test_english_and_spaced_headers_are_accepted(city, tmp_path):
    english = {
        "ref": "Building ref",
        "kode_kelurahan": "Kelurahan code",
        "alamat": "Street address",
        "lintang": "Latitude",
        "bujur": "Longitude",
        "penggunaan": "Use",
        "jumlah_lantai": "Floors",
        "luas_lantai_m2": "Floor area (m²)",
        "daya_listrik_va": "PLN VA",
        "status_bangunan": "Status",
        "no_kk": "No. KK",
        "nik_kepala_keluarga": "Head NIK",
        "nama_kepala_keluarga": "Head name",
        "telepon": "Phone",
    }
    headers = [english.get(h, h.upper()) for h in HEADERS]
    rows = [{english.get(k, k.upper()): v for k, v in row(1).items()}]
    path = write_csv(tmp_path / "data.csv", rows, headers=headers)

    outcome = check(path)

    assert outcome.unknown_columns == []
    assert (outcome.rows, outcome.error_rows) == (1, 0)


@pytest.mark.parametrize(
    ("name", "head", "message"),
    [
        ("data.xls", b"\xd0\xcf\x11\xe0", "This is the old Excel format (.xls)."),
        ("data.pdf", b"%PDF", "Upload a .csv or .xlsx file; data.pdf is not one."),
        ("data.xlsx", b"ref,rw", "The content of data.xlsx does not match its name"),
        ("data.csv", b"PK\x03\x04", "The content of data.csv does not match its name"),
    ],
)
def test_wrong_file_types_are_rejected(name, head, message):
    with pytest.raises(FileRejected) as caught:
        detect_format(name, head)

    assert caught.value.message.startswith(message)


def test_binary_file_named_csv_is_rejected(city, tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(b"ref,rw\x00\x01\x02")

    with pytest.raises(FileRejected) as caught:
        check(path)

    assert caught.value.message == (
        "This file is not a text file; upload a .csv or .xlsx file."
    )


def test_too_many_rows_are_rejected(city, tmp_path, monkeypatch):
    monkeypatch.setattr(import_files, "MAX_ROWS", 2)
    path = write_csv(tmp_path / "data.csv", [row(1), row(2), row(3)])

    with pytest.raises(FileRejected) as caught:
        check(path)

    assert caught.value.message == (
        "The file has more than 2 rows; split it into smaller files."
    )


# Checking rows --------------------------------------------------------------------


def test_every_error_is_reported_by_row_and_column(city, tmp_path):
    rows = [
        row(1),
        row(2, rw="0", penggunaan="istana"),
        row(3, nik_kepala_keluarga="1234", no_kk=""),
        row(4, kode_kelurahan="13.74.09.1001", lintang="-0.46", bujur=""),
        {},  # an empty line is ignored
        row(5, ref="", nama_kepala_keluarga=""),
    ]
    path = write_csv(tmp_path / "data.csv", rows)

    outcome = check(path)

    assert problems(outcome) == {
        (3, "rw"),
        (3, "penggunaan"),
        (4, "nik_kepala_keluarga"),
        (4, "no_kk"),
        (5, "kode_kelurahan"),
        (5, "bujur"),
        (7, "ref"),
        (7, "nama_kepala_keluarga"),
    }
    assert (outcome.rows, outcome.error_rows, outcome.new_rows) == (5, 4, 1)
    assert (
        "Write one of: rumah, ruko, toko, kantor, sekolah, tempat ibadah, "
        "kios pasar, fasilitas umum, lainnya." in messages(outcome)
    )


def test_checking_writes_nothing(city, tmp_path):
    path = write_csv(tmp_path / "data.csv", [row(1), row(2)])
    entries = Entry.objects.count()

    outcome = check(path)

    assert outcome.new_rows == 2
    assert not Building.objects.exists()
    assert Entry.objects.count() == entries


def test_house_without_pln_connection_warns(city, tmp_path):
    path = write_csv(tmp_path / "data.csv", [row(1, daya_listrik_va="")])

    outcome = check(path)

    assert outcome.error_rows == 0
    assert outcome.warnings == 1
    [warning] = outcome.problems
    assert (warning.row, warning.column, warning.level) == (
        2,
        "daya_listrik_va",
        "warning",
    )


def test_kelurahan_by_name_ignores_case(city, tmp_path):
    headers = [h if h != "kode_kelurahan" else "nama_kelurahan" for h in HEADERS]
    rows = [
        {**row(1), "nama_kelurahan": "PASAR USANG"},
        {**row(2), "nama_kelurahan": "balai balai"},
        {**row(3), "nama_kelurahan": "Pasar Lama"},
    ]
    path = write_csv(tmp_path / "data.csv", rows, headers=headers)

    outcome = check(path, write=True)

    assert problems(outcome) == {(4, "nama_kelurahan")}
    assert Building.objects.get(external_ref="PU-0001").kelurahan.name == (
        "Pasar Usang"
    )
    assert Building.objects.get(external_ref="PU-0002").kelurahan.code == (
        "13.74.02.1008"
    )


def test_code_and_name_must_agree(city, tmp_path):
    headers = [*HEADERS, "nama_kelurahan"]
    rows = [{**row(1), "nama_kelurahan": "Ganting"}]
    path = write_csv(tmp_path / "data.csv", rows, headers=headers)

    outcome = check(path)

    assert problems(outcome) == {(2, "nama_kelurahan")}
    assert messages(outcome) == [
        "The kelurahan code is 13.74.02.1002, Kelurahan Pasar Usang, but the name "
        "says Ganting; correct one of them."
    ]


def test_scoped_officer_cannot_import_another_kelurahan(city, tmp_path):
    pasar_usang = Area.objects.get(code="13.74.02.1002")
    rows = [row(1), row(2, kode_kelurahan="13.74.01.1001"), row(3)]
    path = write_csv(tmp_path / "data.csv", rows)

    outcome = check(path, scope=pasar_usang, write=True)

    assert problems(outcome) == {(3, "kode_kelurahan")}
    assert messages(outcome) == [
        "You may import only Kelurahan Pasar Usang; this row is for Kelurahan Ganting."
    ]
    assert set(Building.objects.values_list("external_ref", flat=True)) == {
        "PU-0001",
        "PU-0003",
    }


def test_rows_of_one_building_share_it(city, tmp_path):
    second_household = {
        "ref": "PU-0001",
        "no_kk": kk(2),
        "nik_kepala_keluarga": nik(2),
        "nama_kepala_keluarga": "Warga Dua",
    }
    rows = [row(1), second_household, {**second_household, "ref": "PU-0009"}]
    rows[2].update(kode_kelurahan="13.74.02.1002", rw="1", rt="1", alamat="Jl. A")
    rows[2].update(penggunaan="ruko", no_kk=kk(3), nik_kepala_keluarga=nik(3))

    outcome = check(path=write_csv(tmp_path / "data.csv", rows), write=True)

    assert outcome.error_rows == 0
    assert (outcome.buildings_created, outcome.households_created) == (2, 3)
    building = Building.objects.get(external_ref="PU-0001")
    assert building.households.count() == 2
    assert Building.objects.get(external_ref="PU-0009").use == "shop_house"


def test_rows_of_one_building_must_agree(city, tmp_path):
    rows = [
        row(1),
        row(2, ref="PU-0001", daya_listrik_va="2200"),
        row(3, ref="PU-0001", daya_listrik_va="1.300", penggunaan="Rumah"),
    ]
    path = write_csv(tmp_path / "data.csv", rows)

    outcome = check(path)

    # Row 3 spells the same values differently, which is fine; rows 2 and 3
    # also give other addresses than row 2.
    assert problems(outcome) == {
        (3, "daya_listrik_va"),
        (3, "alamat"),
        (4, "alamat"),
    }


def test_errors_of_a_building_mark_its_other_rows(city, tmp_path):
    rows = [
        row(1, rt="abc"),
        {"ref": "PU-0001", "no_kk": kk(2), "nik_kepala_keluarga": nik(2)},
    ]
    rows[1]["nama_kepala_keluarga"] = "Warga Dua"
    path = write_csv(tmp_path / "data.csv", rows)

    outcome = check(path)

    assert problems(outcome) == {(2, "rt"), (3, "ref")}
    assert "Building PU-0001 has errors in row 2; fix that row first." in (
        messages(outcome)
    )


def test_building_without_household_is_registered(city, tmp_path):
    path = write_csv(
        tmp_path / "data.csv",
        [
            row(1, penggunaan="kantor", no_kk="", nik_kepala_keluarga="", telepon=""),
            row(2),
        ],
    )
    path.write_text(path.read_text().replace("Warga Nomor 1", ""))

    outcome = check(path, write=True)

    assert outcome.error_rows == 0
    assert (outcome.buildings_created, outcome.households_created) == (2, 1)
    assert Building.objects.get(external_ref="PU-0001").use == "office"


def test_same_kk_or_nik_twice_in_a_file(city, tmp_path):
    rows = [
        row(1),
        row(2, no_kk=kk(1)),
        row(3, nik_kepala_keluarga=nik(1)),
    ]
    path = write_csv(tmp_path / "data.csv", rows)

    outcome = check(path)

    assert problems(outcome) == {(3, "no_kk"), (4, "nik_kepala_keluarga")}
    assert (
        "The same KK number is also in row 2; each household belongs on one row."
        in (messages(outcome))
    )


def test_kk_registered_at_another_building(city, tmp_path, household):
    path = write_csv(tmp_path / "data.csv", [row(1, no_kk=KK_NUMBER)])

    outcome = check(path)

    assert problems(outcome) == {(2, "no_kk")}
    plate = household.building.plate_code
    assert messages(outcome) == [
        f"This KK number is already registered at the building with plate {plate}; "
        "to move the household, open it in the registry."
    ]


def test_nik_registered_in_another_household(city, tmp_path, household):
    path = write_csv(tmp_path / "data.csv", [row(1, nik_kepala_keluarga=HEAD_NIK)])

    outcome = check(path)

    assert problems(outcome) == {(2, "nik_kepala_keluarga")}
    assert messages(outcome) == ["This NIK is already registered in another household."]


def test_registered_ref_in_other_kelurahan_is_an_error(city, tmp_path):
    register_building(building_input(external_ref="PU-0001"))
    path = write_csv(tmp_path / "data.csv", [row(1, kode_kelurahan="13.74.01.1001")])

    outcome = check(path)

    assert problems(outcome) == {(2, "kode_kelurahan")}
    assert any(
        message.startswith(
            "Building PU-0001 is already registered in Kelurahan Pasar Usang"
        )
        for message in messages(outcome)
    )


def test_registered_building_with_other_values_warns(city, tmp_path):
    register_building(
        building_input(external_ref="PU-0001", street_address="Jl. Sutan Syahrir No. 1")
    )
    path = write_csv(tmp_path / "data.csv", [row(1, daya_listrik_va="2200")])

    outcome = check(path, write=True)

    assert outcome.error_rows == 0
    assert outcome.households_created == 1
    [warning] = outcome.problems
    assert warning.level == "warning"
    assert "with other values in: daya_listrik_va." in warning.message


def test_demolished_building_takes_no_household(city, tmp_path):
    path = write_csv(tmp_path / "data.csv", [row(1, status_bangunan="dibongkar")])

    outcome = check(path)

    assert problems(outcome) == {(2, "status_bangunan")}
    assert messages(outcome) == ["A demolished building cannot take households."]


# Importing ---------------------------------------------------------------------


def test_only_valid_rows_are_imported(city, tmp_path, personas):
    officer = personas["registry_officer"]
    rows = [row(1), row(2, rt=""), row(3)]
    path = write_csv(tmp_path / "data.csv", rows)

    outcome = check(path, write=True, actor=officer)

    assert (outcome.rows, outcome.error_rows, outcome.new_rows) == (3, 1, 2)
    assert set(Building.objects.values_list("external_ref", flat=True)) == {
        "PU-0001",
        "PU-0003",
    }
    assert Household.objects.count() == 2
    assert Member.objects.get(household__building__external_ref="PU-0003").relation == (
        "head"
    )
    registry_entries = Entry.objects.filter(event_type__startswith="registry.")
    actors = {json.loads(bytes(e.body)).get("actor") for e in registry_entries}
    assert actors == {f"user:{officer.pk}"}


def test_reimport_creates_no_duplicates(city, tmp_path):
    rows = [row(1), row(2), {"ref": "PU-0002", "no_kk": kk(3)}]
    rows[2].update(nik_kepala_keluarga=nik(3), nama_kepala_keluarga="Warga Tiga")
    path = write_csv(tmp_path / "data.csv", rows)
    first = check(path, write=True)
    entries = Entry.objects.count()

    again = check(path, write=True)

    assert (first.new_rows, first.buildings_created, first.households_created) == (
        3,
        2,
        3,
    )
    assert (again.rows, again.new_rows, again.present_rows, again.error_rows) == (
        3,
        0,
        3,
        0,
    )
    assert (Building.objects.count(), Household.objects.count()) == (2, 3)
    assert Entry.objects.count() == entries


def test_fixed_rows_join_an_earlier_import(city, tmp_path):
    path = write_csv(tmp_path / "data.csv", [row(1), row(2, nik_kepala_keluarga="1")])
    check(path, write=True)
    write_csv(path, [row(1), row(2)])

    outcome = check(path, write=True)

    assert (outcome.new_rows, outcome.present_rows) == (1, 1)
    assert Building.objects.count() == 2


def test_household_joins_a_registered_building(city, tmp_path, household):
    change_building(household.building, {"external_ref": "PU-0001"})
    joining = {"ref": "PU-0001", "no_kk": kk(7), "nik_kepala_keluarga": nik(7)}
    joining["nama_kepala_keluarga"] = "Warga Tujuh"
    path = write_csv(tmp_path / "data.csv", [joining])

    outcome = check(path, write=True)

    assert outcome.error_rows == 0, outcome.problems
    assert outcome.buildings_created == 0
    assert household.building.households.count() == 2


def test_rows_registered_meanwhile_are_reported(city, tmp_path):
    path = write_csv(tmp_path / "data.csv", [row(1), row(2)])
    assert check(path).error_rows == 0
    register_household(
        register_building(building_input()),
        kk(2),
        [MemberInput("Warga Lain", nik(9), "head")],
    )

    outcome = check(path, write=True)

    assert problems(outcome) == {(3, "no_kk")}
    assert outcome.new_rows == 1


def test_import_keeps_the_ledger_verifiable(city, tmp_path):
    rows = [row(serial) for serial in range(1, 31)]
    rows.append({"ref": "PU-0001", "no_kk": kk(99), "nik_kepala_keluarga": nik(99)})
    rows[-1]["nama_kepala_keluarga"] = "Warga Terakhir"
    check(write_csv(tmp_path / "data.csv", rows), write=True)

    seal_pending()
    result = verify_ledger(node_verifier())

    assert result.ok, result.problems
    assert Household.objects.count() == 31


def test_journal_holds_no_personal_data_after_import(city, tmp_path):
    check(write_csv(tmp_path / "data.csv", [row(1)]), write=True)

    bodies = b"".join(bytes(entry.body) for entry in Entry.objects.all())

    assert nik(1).encode() not in bodies
    assert kk(1).encode() not in bodies
    assert b"Warga Nomor 1" not in bodies
    assert b"Sutan Syahrir" not in bodies


def test_chunks_carry_buildings_across(city, tmp_path, monkeypatch):
    monkeypatch.setattr(import_files, "CHUNK_ROWS", 2)
    rows = [row(1), row(2), row(3), {"ref": "PU-0001", "no_kk": kk(4)}]
    rows[3].update(nik_kepala_keluarga=nik(4), nama_kepala_keluarga="Warga Empat")
    rows.append(row(5, no_kk=kk(4)))
    progress: list[tuple[int, int | None]] = []

    outcome = check(
        write_csv(tmp_path / "data.csv", rows),
        write=True,
        progress=lambda done, total: progress.append((done, total)),
    )

    assert problems(outcome) == {(6, "no_kk")}
    assert Building.objects.get(external_ref="PU-0001").households.count() == 2
    assert [done for done, _total in progress] == [2, 4, 5]


def test_bad_optional_cell_keeps_its_building_out(city, tmp_path):
    cells: list[object] = list(row(1).values())
    cells[HEADERS.index("luas_lantai_m2")] = datetime(2024, 7, 2)
    follow = ["PU-0001"] + [""] * 11 + [kk(2), nik(2), "Warga Dua", ""]
    path = write_xlsx(tmp_path / "data.xlsx", [cells, follow])

    outcome = check(path, "xlsx", write=True)

    assert problems(outcome) == {(2, "luas_lantai_m2"), (3, "ref")}
    assert not Building.objects.exists()


def test_unregistered_ref_alone_is_an_error(city, tmp_path):
    joining = {"ref": "PU-0404", "no_kk": kk(1), "nik_kepala_keluarga": nik(1)}
    joining["nama_kepala_keluarga"] = "Warga Satu"

    outcome = check(write_csv(tmp_path / "data.csv", [joining]))

    assert problems(outcome) == {(2, "ref")}
    assert messages(outcome) == [
        "No registered building has ref PU-0404; fill in the building's columns in this row."
    ]


def test_scoped_officer_cannot_join_building_elsewhere(city, tmp_path):
    register_building(
        building_input(kelurahan_code="13.74.01.1001", external_ref="GT-0001")
    )
    joining = {"ref": "GT-0001", "no_kk": kk(1), "nik_kepala_keluarga": nik(1)}
    joining["nama_kepala_keluarga"] = "Warga Satu"
    pasar_usang = Area.objects.get(code="13.74.02.1002")

    outcome = check(write_csv(tmp_path / "data.csv", [joining]), scope=pasar_usang)

    assert problems(outcome) == {(2, "ref")}
    assert messages(outcome) == [
        "Building GT-0001 is registered in Kelurahan Ganting; you may import only "
        "Kelurahan Pasar Usang."
    ]


# The command line -------------------------------------------------------------------


def run_command(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("registry_import", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_command_imports_nothing_while_rows_have_errors(city, tmp_path):
    path = write_csv(tmp_path / "data.csv", [row(1), row(2, rt="")])

    with pytest.raises(CommandError) as caught:
        run_command(str(path))

    assert str(caught.value) == (
        "1 rows have errors, so nothing was imported; fix them, or import the "
        "others with --only-valid"
    )
    assert not Building.objects.exists()


def test_command_imports_valid_rows_when_asked(city, tmp_path, personas):
    path = write_csv(tmp_path / "data.csv", [row(1), row(2, rt="")])

    out, err = run_command(
        str(path), "--only-valid", "--user", "persona-registry_officer"
    )

    assert "row 3, column rt: error: Enter a number from 1 to 999" in out
    assert "imported 1 rows: 1 buildings and 1 households registered" in out
    assert "importing: 2 of about 2 rows done" in err
    body = json.loads(
        bytes(Entry.objects.filter(event_type__startswith="registry.").first().body)
    )
    assert body["actor"] == f"user:{personas['registry_officer'].pk}"


def test_command_dry_run_writes_nothing(city, tmp_path):
    path = write_csv(tmp_path / "data.csv", [row(1)])

    out, _err = run_command(str(path), "--dry-run")

    assert "1 rows would be imported" in out
    assert not Building.objects.exists()


def test_command_rejects_a_wrong_file(city, tmp_path):
    path = tmp_path / "data.pdf"
    path.write_bytes(b"%PDF")

    with pytest.raises(CommandError) as caught:
        run_command(str(path))

    assert str(caught.value) == "Upload a .csv or .xlsx file; data.pdf is not one."


def test_kept_xlsx_rows_read_back_alike(city, tmp_path):
    cells: list[object] = list(row(1).values())
    cells[HEADERS.index("rt")] = datetime(2024, 3, 1)
    other: list[object] = list(row(2).values())
    other[HEADERS.index("daya_listrik_va")] = 2200.0
    other[HEADERS.index("lintang")] = -0.4651
    path = write_xlsx(tmp_path / "data.xlsx", [cells, other])
    kept = tmp_path / "rows.jsonl"

    checked = check(path, "xlsx", keep_rows_at=kept)
    imported = check(kept, "rows", write=True)

    assert problems(checked) == problems(imported) == {(2, "rt")}
    assert imported.read_as == checked.read_as == "XLSX, Sheet"
    assert Building.objects.get(external_ref="PU-0002").pln_va == 2200


def test_stopped_check_keeps_no_rows(city, tmp_path, monkeypatch):
    monkeypatch.setattr(import_files, "MAX_ROWS", 1)
    path = write_xlsx(tmp_path / "data.xlsx", [list(row(n).values()) for n in (1, 2)])
    kept = tmp_path / "rows.jsonl"

    with pytest.raises(FileRejected):
        check(path, "xlsx", keep_rows_at=kept)

    assert list(tmp_path.iterdir()) == [path]
