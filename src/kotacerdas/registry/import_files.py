"""Reading registry spreadsheets: the template's columns, CSV and XLSX files, cells.

The layout is described in docs/registry-import.md: row 1 contains the column
headers, matched without regard to case, spaces or punctuation, in Indonesian
or in English; every later row is one household and its building. This module
turns a file into numbered rows of clean cell text and undoes what Excel does
to them (numbers in scientific notation, `1300.0`, leading apostrophes, dates,
Windows-1252 text, `;` separators). It reads nothing from the database.
"""

import codecs
import csv
import dataclasses
import io
import json
import os
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import openpyxl
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl.utils.exceptions import InvalidFileException

CHUNK_ROWS = 1000
MAX_ROWS = 200_000
FORMATS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx"}
ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class Column:
    """A column of the template: its key, template header and accepted aliases."""

    key: str
    header: str
    aliases: tuple[str, ...]
    kind: str  # text, integer, decimal, identity or phone
    description: Promise
    example: str


COLUMNS = (
    Column(
        "ref",
        "ref",
        (
            "id_bangunan",
            "no_urut",
            "nomor_urut",
            "reference",
            "external_ref",
            "building_ref",
        ),
        "text",
        gettext_lazy(
            "Required. The building's number in your spreadsheet; rows of one building share it, and importing the file again finds the building by it."
        ),
        "PU-0001",
    ),
    Column(
        "kelurahan_code",
        "kode_kelurahan",
        ("kelurahan_code", "kode_kel"),
        "text",
        gettext_lazy(
            "Kemendagri code of the kelurahan, such as 13.74.02.1002. Give this or nama_kelurahan."
        ),
        "13.74.02.1002",
    ),
    Column(
        "kelurahan_name",
        "nama_kelurahan",
        ("kelurahan", "kelurahan_name", "nama_kel"),
        "text",
        gettext_lazy(
            "Name of the kelurahan, such as Pasar Usang (capitals do not matter). Give this or kode_kelurahan."
        ),
        "Pasar Usang",
    ),
    Column(
        "rw",
        "rw",
        (),
        "integer",
        gettext_lazy("Required. RW number, such as 2 or 002."),
        "2",
    ),
    Column(
        "rt",
        "rt",
        (),
        "integer",
        gettext_lazy("Required. RT number, such as 3 or 003."),
        "3",
    ),
    Column(
        "street_address",
        "alamat",
        ("address", "street_address", "alamat_jalan"),
        "text",
        gettext_lazy("Required. Street address, such as Jl. Sutan Syahrir No. 12."),
        "Jl. Sutan Syahrir No. 12",
    ),
    Column(
        "lat",
        "lintang",
        ("latitude", "lat"),
        "decimal",
        gettext_lazy(
            "Latitude in decimal degrees, such as -0.4651. Give both coordinates or neither."
        ),
        "-0.4651",
    ),
    Column(
        "lng",
        "bujur",
        ("longitude", "lng", "lon"),
        "decimal",
        gettext_lazy("Longitude in decimal degrees, such as 100.4002."),
        "100.4002",
    ),
    Column(
        "use",
        "penggunaan",
        ("use", "fungsi_bangunan", "jenis_bangunan", "peruntukan"),
        "text",
        gettext_lazy(
            "Required. One of: rumah, ruko, toko, kantor, sekolah, tempat ibadah, kios pasar, fasilitas umum, lainnya."
        ),
        "rumah",
    ),
    Column(
        "floors",
        "jumlah_lantai",
        ("floors", "lantai"),
        "integer",
        gettext_lazy("Number of floors; empty means 1."),
        "1",
    ),
    Column(
        "floor_area_m2",
        "luas_lantai_m2",
        ("floor_area_m2", "luas_m2", "luas_bangunan_m2"),
        "integer",
        gettext_lazy("Floor area in square metres, a whole number."),
        "72",
    ),
    Column(
        "pln_va",
        "daya_listrik_va",
        ("pln_va", "daya_va", "daya_pln_va", "daya_listrik"),
        "integer",
        gettext_lazy(
            "PLN connection in VA, such as 1300; a house's levy class depends on it."
        ),
        "1300",
    ),
    Column(
        "status",
        "status_bangunan",
        ("status", "building_status"),
        "text",
        gettext_lazy("aktif, kosong or dibongkar; empty means aktif."),
        "aktif",
    ),
    Column(
        "kk_number",
        "no_kk",
        ("nomor_kk", "kk", "kk_number"),
        "identity",
        gettext_lazy(
            "KK number, 16 digits, in a column formatted as Text. Leave the KK columns empty for a building without a household."
        ),
        "1374020101150003",
    ),
    Column(
        "head_nik",
        "nik_kepala_keluarga",
        ("nik_kepala", "nik", "head_nik"),
        "identity",
        gettext_lazy(
            "NIK of the head of household, 16 digits, in a column formatted as Text."
        ),
        "1374024708950001",
    ),
    Column(
        "head_name",
        "nama_kepala_keluarga",
        ("nama_kepala", "head_name"),
        "text",
        gettext_lazy("Full name of the head of household as written on the KK."),
        "Siti Rahmah",
    ),
    Column(
        "phone",
        "telepon",
        ("phone", "no_hp", "no_telepon", "hp"),
        "phone",
        gettext_lazy("Phone number of the head of household, such as 081234567890."),
        "081234567890",
    ),
)
COLUMN_BY_KEY = {column.key: column for column in COLUMNS}
HOUSEHOLD_KEYS = ("kk_number", "head_nik", "head_name")
REQUIRED_KEYS = ("ref", "rw", "rt", "street_address", "use")

USE_WORDS = {
    "house": ("rumah", "rumah tinggal", "house"),
    "shop_house": ("ruko", "rumah toko", "shop house", "shophouse"),
    "shop": ("toko", "warung", "shop"),
    "office": ("kantor", "perkantoran", "office"),
    "school": ("sekolah", "school"),
    "worship": (
        "tempat ibadah",
        "masjid",
        "musala",
        "mushola",
        "musholla",
        "surau",
        "gereja",
        "place of worship",
        "worship",
    ),
    "market_stall": ("kios pasar", "kios", "los pasar", "market stall"),
    "public": ("fasilitas umum", "fasum", "public facility", "public"),
    "other": ("lainnya", "lain lain", "other"),
}
STATUS_WORDS = {
    "active": ("aktif", "dihuni", "digunakan", "active"),
    "empty": ("kosong", "tidak dihuni", "empty"),
    "demolished": ("dibongkar", "roboh", "rubuh", "demolished"),
}
USE_BY_WORD = {word: use for use, words in USE_WORDS.items() for word in words}
STATUS_BY_WORD = {word: code for code, words in STATUS_WORDS.items() for word in words}

SCIENTIFIC = re.compile(r"^[+-]?\d+([.,]\d+)?[eE][+-]?\d+$")
THOUSANDS = re.compile(r"^\d{1,3}([.,]\d{3})+$")
ZERO_FRACTION = re.compile(r"^(\d+)[.,]0+$")


class FileRejected(ValueError):
    """The file cannot be read as a registry spreadsheet; `message` explains why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CellInvalid(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Problem:
    """An error or warning on one cell: row number as the spreadsheet shows it."""

    row: int
    column: str
    message: str
    level: str = "error"

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "level": self.level,
            "message": self.message,
        }


# Headers --------------------------------------------------------------------


def header_key(text: Any) -> str:
    """Reduce a header to lower-case words joined by `_`: "No. KK" -> "no_kk"."""
    words = re.sub(r"[^0-9a-z]+", " ", str(text or "").casefold().replace("²", "2"))
    return "_".join(words.split())


HEADER_LOOKUP = {
    header_key(name): column.key
    for column in COLUMNS
    for name in (column.header, column.key, *column.aliases)
}


@dataclass
class HeaderMap:
    """Positions of the known columns in a file, and their headers as written there."""

    position: dict[str, int]
    label: dict[str, str]
    unknown: list[str]
    # Positions with any header text, known or not: a value anywhere else
    # has no column and is reported.
    named: frozenset[int]

    def column_label(self, key: str) -> str:
        return self.label.get(key, COLUMN_BY_KEY[key].header)


def map_headers(cells: list[Any]) -> HeaderMap:
    """Match row 1 to the template's columns; raise FileRejected naming every gap."""
    position: dict[str, int] = {}
    label: dict[str, str] = {}
    unknown: list[str] = []
    problems: list[str] = []
    named: set[int] = set()

    for index, cell in enumerate(cells):
        text = " ".join(str(cell if cell is not None else "").split())
        if not text:
            continue
        named.add(index)
        key = HEADER_LOOKUP.get(header_key(text))
        if key is None:
            unknown.append(text)
        elif key in position:
            problems.append(
                _(
                    'The columns "%(first)s" and "%(second)s" both mean %(header)s; keep one.'
                )
                % {
                    "first": label[key],
                    "second": text,
                    "header": COLUMN_BY_KEY[key].header,
                }
            )
        else:
            position[key], label[key] = index, text

    if not position:
        raise FileRejected(
            _(
                "Row 1 must contain the column headers of the template, such as ref, kode_kelurahan, rw, rt, alamat and penggunaan."
            )
        )
    missing = _missing_columns(position)
    if missing:
        problems.append(
            _("Add the missing columns to row 1: %(columns)s.")
            % {"columns": ", ".join(missing)}
        )
    if problems:
        raise FileRejected(" ".join(problems))
    return HeaderMap(position, label, unknown, frozenset(named))


def _missing_columns(position: dict[str, int]) -> list[str]:
    missing = [
        COLUMN_BY_KEY[key].header for key in REQUIRED_KEYS if key not in position
    ]
    if "kelurahan_code" not in position and "kelurahan_name" not in position:
        missing.append("kode_kelurahan / nama_kelurahan")
    # The KK columns are optional as a group: all of them, or none.
    if any(key in position for key in HOUSEHOLD_KEYS):
        missing += [
            COLUMN_BY_KEY[key].header for key in HOUSEHOLD_KEYS if key not in position
        ]
    return missing


# Reading files -------------------------------------------------------------------


def detect_format(file_name: str, head: bytes) -> str:
    """Return "csv" or "xlsx" from the name and first bytes, or raise FileRejected."""
    suffix = Path(file_name).suffix.casefold()
    if suffix == ".xls":
        raise FileRejected(
            _(
                "This is the old Excel format (.xls). In Excel choose Save As and pick Excel Workbook (.xlsx) or CSV."
            )
        )
    file_format = FORMATS.get(suffix)
    if file_format is None:
        raise FileRejected(
            _("Upload a .csv or .xlsx file; %(name)s is not one.") % {"name": file_name}
        )
    if (file_format == "xlsx") != head.startswith(ZIP_MAGIC):
        raise FileRejected(
            _(
                "The content of %(name)s does not match its name: it is not a %(kind)s file. Save it again as .xlsx or CSV."
            )
            % {"name": file_name, "kind": file_format.upper()}
        )
    return file_format


@dataclass
class Sheet:
    """The rows of an opened file after its header row."""

    headers: HeaderMap
    rows: Iterator[tuple[int, tuple[Any, ...]]]
    rows_estimated: int | None
    read_as: str
    header: list[Any]
    close: Callable[[], None] = lambda: None


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode CSV bytes as Excel writes them: UTF-8 (with or without BOM), UTF-16, Windows-1252."""
    if data.startswith(codecs.BOM_UTF8):
        encoding, data = "UTF-8 BOM", data[len(codecs.BOM_UTF8) :]
        python_name = "utf-8"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding, python_name = "UTF-16", "utf-16"
    elif b"\x00" in data[:4096]:
        raise FileRejected(
            _("This file is not a text file; upload a .csv or .xlsx file.")
        )
    else:
        try:
            return data.decode("utf-8"), "UTF-8"
        except UnicodeDecodeError:
            encoding, python_name = "Windows-1252", "cp1252"
    try:
        return data.decode(python_name), encoding
    except UnicodeDecodeError:
        raise FileRejected(
            _(
                "The text encoding of this file is not UTF-8 or Windows-1252. In Excel choose Save As, CSV UTF-8."
            )
        ) from None


def detect_separator(first_line: str) -> str:
    counts = {sep: first_line.count(sep) for sep in (";", ",", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def open_csv(data: bytes) -> Sheet:
    text, encoding = decode_text(data)
    first_line, _newline, rest = text.partition("\n")
    # Excel writes and reads a first line "sep=;" naming the separator; it is
    # not shown as a row, so the header is still row 1.
    hint = re.fullmatch(r"sep=(.)\r?", first_line)
    if hint:
        text = rest
        first_line = text.partition("\n")[0]
    separator = hint.group(1) if hint else detect_separator(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    header = next(reader, None)
    if header is None:
        raise FileRejected(_("The file is empty."))
    shown = {"\t": "tab"}.get(separator, separator)
    return Sheet(
        map_headers(list(header)),
        ((number, tuple(cells)) for number, cells in enumerate(reader, start=2)),
        max(text.count("\n") - 1, 0),
        f"CSV, {encoding}, {shown}",
        list(header),
    )


def open_xlsx(path: Path) -> Sheet:
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError):
        raise FileRejected(
            _(
                "This file cannot be opened as an Excel workbook. Save it again as .xlsx or CSV."
            )
        ) from None
    rejection: FileRejected | None = None
    for worksheet in workbook.worksheets:
        rows = worksheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            continue
        try:
            headers = map_headers(list(header))
        except FileRejected as error:
            rejection = rejection or error
            continue
        estimate = worksheet.max_row - 1 if worksheet.max_row else None
        return Sheet(
            headers,
            ((number, cells) for number, cells in enumerate(rows, start=2)),
            estimate,
            f"XLSX, {worksheet.title}",
            list(header),
            workbook.close,
        )
    workbook.close()
    raise rejection or FileRejected(_("The workbook has no rows."))


def open_sheet(path: Path, file_format: str) -> Sheet:
    """Open a "csv" or "xlsx" file, or rows kept by `keep_rows` ("rows")."""
    if file_format == "xlsx":
        return open_xlsx(path)
    if file_format == "rows":
        return open_kept_rows(path)
    return open_csv(path.read_bytes())


# Reading an XLSX file is the slowest step of a large import, because openpyxl
# parses the XML of every cell. So checking keeps the cells it read in a
# JSON-lines file, and importing reads them back from there.


def keep_rows(sheet: Sheet, path: Path) -> Sheet:
    """Return the sheet with its rows also written, as read, to `path`.

    The file appears under `path` only once every row has been read, so a
    check that stopped early leaves no partial copy to import from.
    """
    partial = path.with_name(path.name + ".partial")
    file = partial.open("w", encoding="utf-8")
    os.fchmod(file.fileno(), 0o600)
    head = {
        "read_as": sheet.read_as,
        "rows_estimated": sheet.rows_estimated,
        "header": [_encode(cell) for cell in sheet.header],
    }
    file.write(json.dumps(head) + "\n")

    def rows() -> Iterator[tuple[int, tuple[Any, ...]]]:
        for number, cells in sheet.rows:
            file.write(json.dumps([number, *map(_encode, cells)]) + "\n")
            yield number, cells
        file.close()
        partial.replace(path)

    def close() -> None:
        file.close()
        partial.unlink(missing_ok=True)
        sheet.close()

    return dataclasses.replace(sheet, rows=rows(), close=close)


def open_kept_rows(path: Path) -> Sheet:
    file = path.open(encoding="utf-8")
    head = json.loads(file.readline())
    header = [_decode(cell) for cell in head["header"]]
    rows = ((row[0], tuple(map(_decode, row[1:]))) for row in map(json.loads, file))
    return Sheet(
        map_headers(header),
        rows,
        head["rows_estimated"],
        head["read_as"],
        header,
        file.close,
    )


def _encode(value: Any) -> Any:
    # Dates and times are kept with their type, because a cell Excel turned
    # into a date is reported as such.
    if isinstance(value, datetime | date | time):
        return {type(value).__name__: value.isoformat()}
    if isinstance(value, timedelta):
        return {"timedelta": value.total_seconds()}
    return value


def _decode(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    [(kind, text)] = value.items()
    if kind == "timedelta":
        return timedelta(seconds=text)
    if kind == "datetime":
        return datetime.fromisoformat(text)
    if kind == "date":
        return date.fromisoformat(text)
    return time.fromisoformat(text)


def chunks(sheet: Sheet) -> Iterator[list[tuple[int, tuple[Any, ...]]]]:
    chunk: list[tuple[int, tuple[Any, ...]]] = []
    for number, cells in sheet.rows:
        if number - 1 > MAX_ROWS:
            raise FileRejected(
                _("The file has more than %(limit)s rows; split it into smaller files.")
                % {"limit": f"{MAX_ROWS:,}"}
            )
        if any(cell is not None and str(cell).strip() for cell in cells):
            chunk.append((number, cells))
        if len(chunk) >= CHUNK_ROWS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# Cells ---------------------------------------------------------------------


def cell_text(value: Any, kind: str) -> str:
    """Return a cell as clean text, undoing what Excel does to numbers, or raise CellInvalid."""
    if value is None:
        return ""
    if isinstance(value, datetime | date | time | timedelta):
        raise CellInvalid(
            _(
                "Excel turned this cell into a date or time; format the column as Text and type the value again."
            )
        )
    if isinstance(value, bool):
        value = str(value)
    if isinstance(value, int | float):
        return _number_text(value, kind)
    # split() also takes the no-break spaces that pasted text brings along.
    text = " ".join(str(value).split())
    if text.startswith("'"):
        text = text[1:].strip()
    if kind == "identity":
        if text.isdigit():
            return text
        if SCIENTIFIC.match(text):
            raise CellInvalid(_excel_number_message())
        return re.sub(r"[\s.\-]", "", text)
    if kind == "integer":
        return _integer_text(text)
    return text


def _excel_number_message() -> str:
    return _(
        "Excel turned this number into 1.37402E+15 and lost its last digits; format the column as Text and type the number again."
    )


def _number_text(value: int | float, kind: str) -> str:
    if kind == "identity":
        # Excel keeps 15 significant digits, so a 16-digit NIK or KK stored
        # as a number has already lost its last digit.
        raise CellInvalid(_excel_number_message())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if kind == "phone":
        digits = str(value)
        # A phone typed as a number loses its leading 0 (0812... -> 812...).
        return "0" + digits if digits.startswith("8") else digits
    if kind == "integer" and isinstance(value, float):
        raise CellInvalid(_("Enter a whole number, such as 1300."))
    return str(value)


def _integer_text(text: str) -> str:
    # "1.300" and "1,300" are thousands (services drop the separators);
    # "1300.0" is what Excel writes for a float and means 1300.
    if not text or text.isdigit() or THOUSANDS.match(text):
        return text
    match = ZERO_FRACTION.match(text)
    if match:
        return match.group(1)
    raise CellInvalid(_("Enter a whole number, such as 1300."))


def comparable(key: str, text: str) -> str:
    """Return the form in which two rows' cells for one building are compared."""
    kind = COLUMN_BY_KEY[key].kind
    if kind == "integer":
        return text.replace(".", "").replace(",", "").lstrip("0")
    if kind == "decimal":
        try:
            return repr(float(text.replace(",", ".")))
        except ValueError:
            return text
    if key == "use":
        return USE_BY_WORD.get(word_key(text), text.casefold())
    if key == "status":
        return STATUS_BY_WORD.get(word_key(text), text.casefold())
    return " ".join(text.casefold().split())


def word_key(text: str) -> str:
    return " ".join(re.sub(r"[-_/]", " ", text.casefold()).split())
