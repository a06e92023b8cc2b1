"""Checking registry spreadsheets row by row, and importing them.

Every row is one household (KK) and its head, living in the building named
by `ref`. Rows that share a `ref` are one building, described by the first
of them; later rows may repeat those cells or leave them empty. A row without
KK cells registers only the building.

A file is checked in chunks of CHUNK_ROWS rows, so a large file is never held
in memory as objects. Checking writes nothing. Importing checks each chunk
again inside its own transaction and writes its rows through `registry.bulk`,
so every chunk commits whole and progress can be shown. Every row ends as
imported, already registered (skipped), or reported with its row number and
column header. Empty rows are ignored.
"""

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from kotacerdas.city.models import Area
from kotacerdas.registry import bulk, pii
from kotacerdas.registry.codes import InvalidCode, clean_kk
from kotacerdas.registry.import_files import (
    COLUMN_BY_KEY,
    HOUSEHOLD_KEYS,
    STATUS_BY_WORD,
    USE_BY_WORD,
    USE_WORDS,
    CellInvalid,
    HeaderMap,
    Problem,
    cell_text,
    chunks,
    comparable,
    keep_rows,
    open_sheet,
    word_key,
)
from kotacerdas.registry.models import Building, Household, Member
from kotacerdas.registry.services import (
    BuildingInput,
    CleanBuilding,
    CleanMember,
    FieldError,
    MemberInput,
    RegistryInvalid,
    clean_building,
    clean_member,
)

# Problems kept for the report. A file with more is mostly wrong anyway, and
# the count of rows with errors stays exact.
MAX_PROBLEMS = 100_000

SIGNATURE_KEYS = (
    "kelurahan", "rw", "rt", "street_address", "lat", "lng", "use", "floors",
    "floor_area_m2", "pln_va", "status",
)  # fmt: skip
SIGNATURE = struct.Struct(f"{len(SIGNATURE_KEYS)}q")
BLANK_SIGNATURE = SIGNATURE.pack(*(hash("") for _key in SIGNATURE_KEYS))
BUILDING_KEYS = (
    "kelurahan_code", "kelurahan_name", "rw", "rt", "street_address", "lat", "lng",
    "use", "floors", "floor_area_m2", "pln_va", "status",
)  # fmt: skip
BUILDING_FIELD_KEYS = {
    "kelurahan_code": "kelurahan",
    "external_ref": "ref",
    **{key: key for key in SIGNATURE_KEYS if key != "kelurahan"},
}
HOUSEHOLD_CELLS = (*HOUSEHOLD_KEYS, "phone")
MEMBER_FIELD_KEYS = {"full_name": "head_name", "nik": "head_nik", "phone": "phone"}


@dataclass(slots=True)
class RefState:
    """What is known so far about one building `ref`, from the file and the registry."""

    first_row: int
    signature: bytes
    building_ok: bool
    kelurahan_id: int | None
    demolished: bool
    # Kept from the first row until the building is written or found registered.
    clean: CleanBuilding | None
    building_id: int | None = None
    looked_up: bool = False
    # A valid row will create (or has created) the building.
    planned: bool = False
    # The first row gave only the ref, naming a building registered earlier.
    by_reference: bool = False


@dataclass(slots=True)
class CheckedRow:
    """One data row after checking: its problems and what importing it writes."""

    number: int
    ref: str
    state: RefState | None = None
    defining: bool = False
    kk: str = ""
    member: CleanMember | None = None
    problems: list[Problem] = field(default_factory=list)
    household_present: bool = False
    creates_building: bool = False
    creates_household: bool = False

    @property
    def has_errors(self) -> bool:
        return any(problem.level == "error" for problem in self.problems)


def kelurahan_lookup() -> dict[str, Area]:
    """Map every kelurahan code (dotted, compact) and name variant to its Area."""
    lookup: dict[str, Area] = {}
    for area in Area.objects.exclude(level=Area.Level.KECAMATAN):
        name = word_key(area.name)
        for key in (
            area.code,
            area.compact_code,
            name,
            f"kelurahan {name}",
            f"kel {name}",
        ):
            lookup[key] = area
    return lookup


class RowChecker:
    """Check rows chunk by chunk, keeping what earlier chunks found."""

    def __init__(self, headers: HeaderMap, scope: Area | None = None) -> None:
        self.headers = headers
        self.scope = scope
        self.areas = kelurahan_lookup()
        self.areas_by_code = {area.code: area for area in self.areas.values()}
        self.refs: dict[str, RefState] = {}
        self.kk_rows: dict[str, int] = {}
        self.nik_rows: dict[str, int] = {}

    def check(self, raw_rows: list[tuple[int, tuple[Any, ...]]]) -> list[CheckedRow]:
        rows = [self._check_row(number, cells) for number, cells in raw_rows]
        self._check_registry(rows)
        self._plan(rows)
        return rows

    def release(self, rows: list[CheckedRow]) -> None:
        """Forget the cleaned buildings that no later row will need."""
        for row in rows:
            state = row.state
            if state and (state.planned or state.building_id or not state.building_ok):
                state.clean = None

    def _problem(
        self, row: CheckedRow, key: str, message: str, level: str = "error"
    ) -> None:
        row.problems.append(
            Problem(row.number, self.headers.column_label(key), message, level)
        )

    def _check_row(self, number: int, cells: tuple[Any, ...]) -> CheckedRow:
        texts: dict[str, str] = {}
        bad: set[str] = set()
        row = CheckedRow(number, "")
        for key, index in self.headers.position.items():
            value = cells[index] if index < len(cells) else None
            try:
                texts[key] = cell_text(value, COLUMN_BY_KEY[key].kind)
            except CellInvalid as error:
                self._problem(row, key, error.message)
                texts[key] = ""
                bad.add(key)

        unnamed = (i for i in range(len(cells)) if i not in self.headers.named)
        for index in unnamed:
            if cells[index] is not None and str(cells[index]).strip():
                row.problems.append(
                    Problem(
                        number,
                        _("column %(letter)s")
                        % {"letter": get_column_letter(index + 1)},
                        _(
                            "This cell has no column header; remove it, or check for a stray separator in this row."
                        ),
                    )
                )

        row.ref = texts.get("ref", "")
        if not row.ref and "ref" not in bad:
            self._problem(
                row,
                "ref",
                _("Enter the building's ref; rows of one building share it."),
            )

        state = self.refs.get(row.ref) if row.ref else None
        if state is None:
            state = self._define_building(row, texts, bad)
            row.defining = True
        else:
            self._compare_building(row, texts, state)
        row.state = state
        self._check_household(row, texts, bad)
        return row

    def _kelurahan(
        self, row: CheckedRow, texts: dict[str, str], report: bool
    ) -> Area | None:
        code, name = texts.get("kelurahan_code", ""), texts.get("kelurahan_name", "")
        key = (
            "kelurahan_code"
            if code or "kelurahan_name" not in self.headers.position
            else "kelurahan_name"
        )
        area = self.areas.get(code.replace(" ", "")) if code else None
        by_name = self.areas.get(word_key(name)) if name else None
        if not report:
            return area or by_name
        if not code and not name:
            self._problem(
                row,
                key,
                _(
                    "Enter the kelurahan code or name, such as 13.74.02.1002 or Pasar Usang."
                ),
            )
        elif code and area is None:
            self._problem(
                row,
                "kelurahan_code",
                _("Enter a kelurahan code of this city, such as 13.74.02.1002."),
            )
        elif name and by_name is None:
            self._problem(
                row,
                "kelurahan_name",
                _(
                    "No kelurahan of this city has this name; check the spelling, such as Pasar Usang."
                ),
            )
        elif area and by_name and area != by_name:
            self._problem(
                row,
                "kelurahan_name",
                _(
                    "The kelurahan code is %(code)s, Kelurahan %(code_name)s, but the name says %(name)s; correct one of them."
                )
                % {"code": area.code, "code_name": area.name, "name": by_name.name},
            )
        else:
            area = area or by_name
            assert area is not None
            if self.scope is not None and area.pk != self.scope.pk:
                self._problem(
                    row,
                    key,
                    _(
                        "You may import only Kelurahan %(allowed)s; this row is for Kelurahan %(row)s."
                    )
                    % {"allowed": self.scope.name, "row": area.name},
                )
                return None
            return area
        return None

    def _define_building(
        self, row: CheckedRow, texts: dict[str, str], bad: set[str]
    ) -> RefState | None:
        building_bad = bool(bad.intersection(BUILDING_KEYS))
        if row.ref and not building_bad and not any(map(texts.get, BUILDING_KEYS)):
            # Only a ref: a household for a building registered earlier.
            state = RefState(row.number, BLANK_SIGNATURE, True, None, False, None)
            state.by_reference = True
            self.refs[row.ref] = state
            return state

        before = len(row.problems)
        kelurahan = self._kelurahan(row, texts, report=True)
        skip = set(bad) | {"kelurahan"}
        use, status = self._use_and_status(row, texts, skip)
        data = BuildingInput(
            kelurahan_code=kelurahan.code if kelurahan else "",
            rw=texts.get("rw", ""),
            rt=texts.get("rt", ""),
            street_address=texts.get("street_address", ""),
            use=use,
            lat=texts.get("lat") or None,
            lng=texts.get("lng") or None,
            floors=texts.get("floors") or 1,
            floor_area_m2=texts.get("floor_area_m2") or None,
            pln_va=texts.get("pln_va") or None,
            status=status or Building.Status.ACTIVE,
            external_ref=row.ref,
        )
        clean = None
        try:
            clean = clean_building(data, areas=self.areas_by_code)
        except RegistryInvalid as error:
            self._field_problems(row, error.errors, BUILDING_FIELD_KEYS, skip)
        else:
            self._field_problems(
                row, clean.warnings, BUILDING_FIELD_KEYS, skip, "warning"
            )
        if not row.ref:
            return None

        state = RefState(
            first_row=row.number,
            signature=self._signature(texts, kelurahan),
            building_ok=clean is not None
            and len(row.problems) == before
            and not building_bad,
            kelurahan_id=kelurahan.pk if kelurahan else None,
            demolished=status == Building.Status.DEMOLISHED,
            clean=clean,
        )
        self.refs[row.ref] = state
        return state

    def _use_and_status(
        self, row: CheckedRow, texts: dict[str, str], skip: set[str]
    ) -> tuple[str, str]:
        """Read the building's use and status words, adding unknown ones to `skip`."""
        use = USE_BY_WORD.get(word_key(texts.get("use", "")), "")
        if texts.get("use") and not use:
            self._problem(
                row,
                "use",
                _("Write one of: %(words)s.")
                % {"words": ", ".join(words[0] for words in USE_WORDS.values())},
            )
            skip.add("use")
        status = STATUS_BY_WORD.get(word_key(texts.get("status", "")) or "aktif", "")
        if not status:
            self._problem(row, "status", _("Write one of: aktif, kosong, dibongkar."))
            skip.add("status")
        return use, status

    def _field_problems(
        self,
        row: CheckedRow,
        errors: list[FieldError],
        keys: dict[str, str],
        skip: set[str],
        level: str = "error",
    ) -> None:
        for error in errors:
            key = keys.get(error.field, error.field)
            if key in skip:
                continue
            if key == "kelurahan":
                key = (
                    "kelurahan_code"
                    if "kelurahan_code" in self.headers.position
                    else "kelurahan_name"
                )
            self._problem(row, key, error.message, level)

    def _signature(self, texts: dict[str, str], kelurahan: Area | None) -> bytes:
        return SIGNATURE.pack(
            *(
                hash(kelurahan.code if kelurahan else "")
                if key == "kelurahan"
                else hash(comparable(key, texts.get(key, "")))
                for key in SIGNATURE_KEYS
            )
        )

    def _compare_building(
        self, row: CheckedRow, texts: dict[str, str], state: RefState
    ) -> None:
        if state.by_reference:
            return  # An import never changes a registered building.
        expected = SIGNATURE.unpack(state.signature)
        message = _(
            "This differs from row %(row)s, where building %(ref)s is first described; make the rows agree, or leave this cell empty."
        ) % {"row": state.first_row, "ref": row.ref}
        for position, key in enumerate(SIGNATURE_KEYS):
            if key == "kelurahan":
                if not (texts.get("kelurahan_code") or texts.get("kelurahan_name")):
                    continue
                area = self._kelurahan(row, texts, report=False)
                if hash(area.code if area else "") != expected[position]:
                    label = (
                        "kelurahan_code"
                        if texts.get("kelurahan_code")
                        else "kelurahan_name"
                    )
                    self._problem(row, label, message)
            elif (
                texts.get(key)
                and hash(comparable(key, texts[key])) != expected[position]
            ):
                self._problem(row, key, message)

    def _check_household(
        self, row: CheckedRow, texts: dict[str, str], bad: set[str]
    ) -> None:
        if not bad.intersection(HOUSEHOLD_CELLS) and not any(
            map(texts.get, HOUSEHOLD_CELLS)
        ):
            return  # A building without a household.
        if "kk_number" not in bad:
            try:
                row.kk = clean_kk(texts.get("kk_number", ""))
            except InvalidCode as error:
                self._problem(row, "kk_number", error.message)
        try:
            member = clean_member(
                MemberInput(
                    texts.get("head_name", ""),
                    texts.get("head_nik", ""),
                    Member.Relation.HEAD,
                    texts.get("phone", ""),
                )
            )
        except RegistryInvalid as error:
            self._field_problems(row, error.errors, MEMBER_FIELD_KEYS, bad)
        else:
            self._field_problems(
                row, member.warnings, MEMBER_FIELD_KEYS, bad, "warning"
            )
            row.member = member
        if row.kk:
            first = self.kk_rows.setdefault(row.kk, row.number)
            if first != row.number:
                self._problem(
                    row,
                    "kk_number",
                    _(
                        "The same KK number is also in row %(row)s; each household belongs on one row."
                    )
                    % {"row": first},
                )
        if row.member:
            first = self.nik_rows.setdefault(row.member.nik, row.number)
            if first != row.number:
                self._problem(
                    row,
                    "head_nik",
                    _(
                        "The same NIK is also in row %(row)s; a person heads one household."
                    )
                    % {"row": first},
                )

    def _check_registry(self, rows: list[CheckedRow]) -> None:
        """Find refs, KK numbers and NIKs of these rows that are registered already."""
        defining = {row.ref: row for row in rows if row.defining and row.state}
        for building in Building.objects.filter(
            external_ref__in=list(defining)
        ).select_related("kelurahan", "unit"):
            self._found_building(defining[building.external_ref], building)
        for row in defining.values():
            assert row.state is not None
            row.state.looked_up = True
            if row.state.by_reference and row.state.building_id is None:
                row.state.building_ok = False
                self._problem(
                    row,
                    "ref",
                    _(
                        "No registered building has ref %(ref)s; fill in the building's columns in this row."
                    )
                    % {"ref": row.ref},
                )

        with_kk = {
            pii.blind_index(row.kk, "kk"): row for row in rows if row.kk and row.state
        }
        registered = Household.objects.filter(kk_index__in=list(with_kk)).values_list(
            "kk_index", "building_id", "building__plate_code"
        )
        for kk_index, building_id, plate_code in registered:
            row = with_kk[kk_index]
            assert row.state is not None
            if row.state.building_id == building_id:
                row.household_present = True
            else:
                self._problem(
                    row,
                    "kk_number",
                    _(
                        "This KK number is already registered at the building with plate %(plate)s; to move the household, open it in the registry."
                    )
                    % {"plate": plate_code},
                )

        with_nik = {
            pii.blind_index(row.member.nik, "nik"): row
            for row in rows
            if row.member and not row.household_present
        }
        for nik_index in Member.objects.filter(
            nik_index__in=list(with_nik)
        ).values_list("nik_index", flat=True):
            self._problem(
                with_nik[nik_index],
                "head_nik",
                _("This NIK is already registered in another household."),
            )

    def _found_building(self, row: CheckedRow, building: Building) -> None:
        state = row.state
        assert state is not None
        state.building_id = building.pk
        state.demolished = building.status == Building.Status.DEMOLISHED
        if self.scope is not None and building.kelurahan_id != self.scope.pk:
            self._problem(
                row,
                "ref",
                _(
                    "Building %(ref)s is registered in Kelurahan %(kelurahan)s; you may import only Kelurahan %(allowed)s."
                )
                % {
                    "ref": row.ref,
                    "kelurahan": building.kelurahan.name,
                    "allowed": self.scope.name,
                },
            )
            state.building_ok = False
            return
        if (
            state.kelurahan_id is not None
            and state.kelurahan_id != building.kelurahan_id
        ):
            key = (
                "kelurahan_code"
                if "kelurahan_code" in self.headers.position
                else "kelurahan_name"
            )
            self._problem(
                row,
                key,
                _(
                    "Building %(ref)s is already registered in Kelurahan %(kelurahan)s (plate %(plate)s); a re-import cannot move it."
                )
                % {
                    "ref": row.ref,
                    "kelurahan": building.kelurahan.name,
                    "plate": building.plate_code,
                },
            )
            state.building_ok = False
            return
        if state.clean is None:
            return
        registered = services_building_values(building)
        differing = [
            key
            for key, value in registered.items()
            if getattr(state.clean, key) != value
        ]
        if differing:
            columns = ", ".join(
                self.headers.column_label(BUILDING_FIELD_KEYS[key]) for key in differing
            )
            self._problem(
                row,
                "ref",
                _(
                    "Building %(ref)s is already registered (plate %(plate)s) with other values in: %(columns)s. An import does not change registered buildings; change it on its page."
                )
                % {"ref": row.ref, "plate": building.plate_code, "columns": columns},
                "warning",
            )

    def _plan(self, rows: list[CheckedRow]) -> None:
        """Decide what each valid row writes: its building (first time only), its household."""
        for row in rows:
            state = row.state
            if state is not None and not row.defining and not state.building_ok:
                self._problem(
                    row,
                    "ref",
                    _("Building %(ref)s has errors in row %(row)s; fix that row first.")
                    % {"ref": row.ref, "row": state.first_row},
                )
            if (
                state is not None
                and row.member
                and state.demolished
                and not row.household_present
            ):
                self._problem(
                    row, "status", _("A demolished building cannot take households.")
                )
            if row.has_errors or state is None:
                continue
            if state.building_id is None and not state.planned:
                row.creates_building = state.planned = True
            row.creates_household = row.member is not None and not row.household_present


def services_building_values(building: Building) -> dict[str, Any]:
    """A registered building's values in the form `clean_building` returns them."""
    return {
        "rw": building.unit.rw,
        "rt": building.unit.rt,
        "street_address": building.street_address,
        "use": building.use,
        "lat": building.lat,
        "lng": building.lng,
        "floors": building.floors,
        "floor_area_m2": building.floor_area_m2,
        "pln_va": building.pln_va,
        "status": building.status,
    }


# Importing -------------------------------------------------------------------


def write_rows(rows: list[CheckedRow], actor: Any) -> tuple[int, int]:
    """Register the buildings and households the checked rows call for; return their counts."""
    creating = [row for row in rows if row.creates_building]
    buildings = bulk.register_buildings(
        [row.state.clean for row in creating if row.state and row.state.clean],
        actor=actor,
    )
    assert len(buildings) == len(creating)
    for row, building in zip(creating, buildings, strict=True):
        assert row.state is not None
        row.state.building_id = building.pk

    joining = [row for row in rows if row.creates_household]
    by_id = {building.pk: building for building in buildings}
    registered_ids = {row.state.building_id for row in joining if row.state}
    missing_ids = [pk for pk in registered_ids - by_id.keys() if pk is not None]
    by_id.update(Building.objects.in_bulk(missing_ids))
    households = []
    for row in joining:
        assert row.state is not None and row.state.building_id and row.member
        households.append(
            bulk.CleanHousehold(by_id[row.state.building_id], row.kk, (row.member,))
        )
    bulk.register_households(households, actor=actor)
    return len(buildings), len(households)


@dataclass
class Outcome:
    """What checking or importing a file found and did, row by row counted."""

    read_as: str = ""
    unknown_columns: list[str] = field(default_factory=list)
    rows: int = 0
    error_rows: int = 0
    new_rows: int = 0
    present_rows: int = 0
    warnings: int = 0
    buildings_created: int = 0
    households_created: int = 0
    problems: list[Problem] = field(default_factory=list)
    problems_omitted: int = 0

    def count(self, rows: list[CheckedRow]) -> None:
        for row in rows:
            self.rows += 1
            if row.has_errors:
                self.error_rows += 1
            elif row.creates_building or row.creates_household:
                self.new_rows += 1
            else:
                self.present_rows += 1
            for problem in row.problems:
                self.warnings += problem.level == "warning"
                if len(self.problems) < MAX_PROBLEMS:
                    self.problems.append(problem)
                else:
                    self.problems_omitted += 1


Progress = Callable[[int, int | None], None]


def process_file(
    path: Path,
    file_format: str,
    *,
    scope: Area | None = None,
    write: bool = False,
    actor: Any = None,
    progress: Progress | None = None,
    keep_rows_at: Path | None = None,
) -> Outcome:
    """Check every row of a file and, with `write`, import the valid ones.

    Importing commits chunk by chunk, each chunk checked again inside its
    transaction; rows that turned invalid since an earlier check are
    reported, not written. With `keep_rows_at`, the rows of an XLSX file are
    kept there for a later run to open as file format "rows". Raises
    FileRejected when the file cannot be read.
    """
    sheet = open_sheet(path, file_format)
    if keep_rows_at is not None and file_format == "xlsx":
        sheet = keep_rows(sheet, keep_rows_at)
    checker = RowChecker(sheet.headers, scope)
    outcome = Outcome(read_as=sheet.read_as, unknown_columns=sheet.headers.unknown)
    try:
        for raw in chunks(sheet):
            if write:
                with transaction.atomic(durable=True):
                    rows = checker.check(raw)
                    created = write_rows(rows, actor)
                outcome.buildings_created += created[0]
                outcome.households_created += created[1]
            else:
                rows = checker.check(raw)
            checker.release(rows)
            outcome.count(rows)
            if progress is not None:
                progress(raw[-1][0] - 1, sheet.rows_estimated)
    finally:
        sheet.close()
    return outcome
