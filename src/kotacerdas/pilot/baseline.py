"""Entering paper baseline figures for a pilot, one at a time or from a CSV file.

Every value is checked before anything is written. A CSV import with any
invalid row writes no row and returns one error per problem, naming the row
and the column, so no row is dropped silently. Each figure written is
journaled as `pilot.baseline.entered`; its source note stays in the table.
"""

import csv
import io
import logging
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from kotacerdas.journal import services as journal
from kotacerdas.pilot.baseline_events import BaselineEntered
from kotacerdas.pilot.models import BaselineFigure, Pilot
from kotacerdas.pilot.trial_metrics import UNITS, TrialMetric
from kotacerdas.registry.services import actor_label

logger = logging.getLogger(__name__)

COLUMNS = ("kelurahan_code", "metric", "starts_on", "ends_on", "value", "source_note")
MAX_ROWS = 1000
MAX_PERIOD_DAYS = 366
MAX_SOURCE_NOTE = 300
_WHOLE = re.compile(r"^[0-9]{1,3}([.,][0-9]{3})*$|^[0-9]+$")
# A value's unit as typed: kilograms for grams, percent, hours.
_DECIMAL_PLACES = {"grams": 3, "percent": 1, "hours": 1}
_SCALE = {"grams": 1000, "percent": 10, "hours": 10}


@dataclass(frozen=True)
class BaselineError:
    """One problem: the CSV row (None for the form), the field and the fix."""

    row: int | None
    field: str
    message: str

    def __str__(self) -> str:
        if self.row is None:
            return f"{self.field}: {self.message}"
        return _("Row %(row)s, %(field)s: %(message)s") % {
            "row": self.row,
            "field": self.field,
            "message": self.message,
        }


class BaselineInvalid(ValueError):
    def __init__(self, errors: list[BaselineError]) -> None:
        super().__init__("; ".join(str(error) for error in errors))
        self.errors = errors


@dataclass(frozen=True)
class CleanFigure:
    kelurahan_code: str
    metric: str
    starts_on: date
    ends_on: date
    value: int
    source_note: str


def parse_value(text: str, unit: str) -> int:
    """Read a value as typed in its display unit; raise ValueError with the fix."""
    text = str(text).strip()
    if unit in ("count", "rupiah"):
        if not _WHOLE.match(text):
            raise ValueError(_("Enter a whole number such as 1250 or 1.250."))
        return int(re.sub(r"[.,]", "", text))
    places = _DECIMAL_PLACES[unit]
    try:
        number = Decimal(text.replace(",", "."))
    except InvalidOperation:
        number = Decimal(-1)
    exponent = number.as_tuple().exponent
    if (
        not number.is_finite()
        or number < 0
        or (isinstance(exponent, int) and -exponent > places)
    ):
        raise ValueError(
            _("Enter a number of at least 0 with at most %(places)s decimals.")
            % {"places": places}
        )
    if unit == "percent" and number > 100:
        raise ValueError(_("Enter a percentage from 0 to 100."))
    return int(number * _SCALE[unit])


def _date(text: str, field: str, row: int | None, errors: list[BaselineError]) -> Any:
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        errors.append(BaselineError(row, field, _("Enter a date as YYYY-MM-DD.")))
        return None


def clean_figure(
    pilot: Pilot, data: dict[str, str], row: int | None, errors: list[BaselineError]
) -> CleanFigure | None:
    """Check one figure's fields, appending an error per problem."""
    found = len(errors)
    codes = set(pilot.areas.values_list("kelurahan_code", flat=True))
    code = str(data.get("kelurahan_code") or "").strip()
    if code and code not in codes:
        errors.append(
            BaselineError(
                row,
                "kelurahan_code",
                _(
                    "%(code)s is not a kelurahan of this pilot. Use one of"
                    " %(codes)s, or leave it empty for all the pilot's areas."
                )
                % {"code": code, "codes": ", ".join(sorted(codes))},
            )
        )
    metric = str(data.get("metric") or "").strip()
    if metric not in TrialMetric.values:
        errors.append(
            BaselineError(
                row,
                "metric",
                _("Unknown metric %(metric)r. Use one of %(metrics)s.")
                % {"metric": metric, "metrics": ", ".join(TrialMetric.values)},
            )
        )
    starts_on = _date(data.get("starts_on", ""), "starts_on", row, errors)
    ends_on = _date(data.get("ends_on", ""), "ends_on", row, errors)
    if starts_on and ends_on:
        _check_period(pilot, starts_on, ends_on, row, errors)
    value = None
    if metric in TrialMetric.values:
        try:
            value = parse_value(data.get("value", ""), UNITS[metric].unit)
        except ValueError as error:
            errors.append(BaselineError(row, "value", str(error)))
    note = str(data.get("source_note") or "").strip()
    if not note or len(note) > MAX_SOURCE_NOTE:
        errors.append(
            BaselineError(
                row,
                "source_note",
                _("Say where the figure comes from, in at most %(max)s characters.")
                % {"max": MAX_SOURCE_NOTE},
            )
        )
    if len(errors) > found or value is None:
        return None
    return CleanFigure(code, metric, starts_on, ends_on, value, note)


def _check_period(
    pilot: Pilot, starts_on: date, ends_on: date, row: int | None, errors: list
) -> None:
    if ends_on < starts_on:
        errors.append(
            BaselineError(
                row, "ends_on", _("The end date must be on or after the start date.")
            )
        )
    elif (ends_on - starts_on).days + 1 > MAX_PERIOD_DAYS:
        errors.append(
            BaselineError(
                row,
                "ends_on",
                _("A baseline period is at most %(days)s days.")
                % {"days": MAX_PERIOD_DAYS},
            )
        )
    elif ends_on >= pilot.starts_on:
        errors.append(
            BaselineError(
                row,
                "ends_on",
                _("A baseline ends before the pilot starts: on %(day)s or earlier.")
                % {"day": (pilot.starts_on - timedelta(days=1)).isoformat()},
            )
        )


def enter_figure(
    pilot: Pilot, data: dict[str, str], *, actor: Any = None
) -> BaselineFigure:
    """Check and save one figure, replacing the area's figure for that metric."""
    errors: list[BaselineError] = []
    figure = clean_figure(pilot, data, None, errors)
    if figure is None:
        raise BaselineInvalid(errors)
    with transaction.atomic():
        return _save(pilot, figure, actor)


def import_csv(pilot: Pilot, text: str, *, actor: Any = None) -> list[BaselineFigure]:
    """Check every row of a CSV file, then save all of them or none.

    Raises BaselineInvalid listing every problem, by row number counted
    from the header (row 1).
    """
    figures = _clean_csv(pilot, text)
    with transaction.atomic():
        saved = [_save(pilot, figure, actor) for figure in figures]
    logger.info(
        "imported %s baseline figures", len(saved), extra={"pilot_id": pilot.pk}
    )
    return saved


def _clean_csv(pilot: Pilot, text: str) -> list[CleanFigure]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        raise BaselineInvalid(
            [
                BaselineError(
                    1,
                    ", ".join(missing),
                    _("The header lacks these columns. Use: %(columns)s.")
                    % {"columns": ",".join(COLUMNS)},
                )
            ]
        )
    errors: list[BaselineError] = []
    figures: list[CleanFigure] = []
    seen: dict[tuple[str, str], int] = {}
    for number, raw in enumerate(reader, start=2):
        if number - 1 > MAX_ROWS:
            errors.append(
                BaselineError(
                    number,
                    "",
                    _("A file holds at most %(max)s rows; split it.")
                    % {"max": MAX_ROWS},
                )
            )
            break
        data = {(key or "").strip(): value or "" for key, value in raw.items()}
        figure = clean_figure(pilot, data, number, errors)
        if figure is None:
            continue
        key = (figure.kelurahan_code, figure.metric)
        if key in seen:
            errors.append(
                BaselineError(
                    number,
                    "metric",
                    _("Row %(row)s already gives this area and metric.")
                    % {"row": seen[key]},
                )
            )
            continue
        seen[key] = number
        figures.append(figure)
    if errors:
        raise BaselineInvalid(errors)
    if not figures:
        raise BaselineInvalid(
            [BaselineError(None, "file", _("The file has no rows below its header."))]
        )
    return figures


def _save(pilot: Pilot, figure: CleanFigure, actor: Any) -> BaselineFigure:
    row = (
        BaselineFigure.objects.select_for_update()
        .filter(pilot=pilot, kelurahan_code=figure.kelurahan_code, metric=figure.metric)
        .first()
    )
    if row is None:
        row = BaselineFigure(
            pilot=pilot,
            kelurahan_code=figure.kelurahan_code,
            metric=figure.metric,
            revision=0,
        )
    row.starts_on = figure.starts_on
    row.ends_on = figure.ends_on
    row.value = figure.value
    row.source_note = figure.source_note
    row.revision += 1
    row.entered_by = actor if getattr(actor, "pk", None) else None
    row.save()
    entry = journal.append(
        "pilot.baseline.entered",
        BaselineEntered(
            baseline_id=row.pk,
            pilot_id=pilot.pk,
            pilot_slug=pilot.slug,
            kelurahan_code=row.kelurahan_code,
            metric=row.metric,
            starts_on=row.starts_on.isoformat(),
            ends_on=row.ends_on.isoformat(),
            value=row.value,
            revision=row.revision,
        ),
        actor=actor_label(actor),
    )
    row.entry_seq = entry.seq
    row.save(update_fields=["entry_seq"])
    return row
