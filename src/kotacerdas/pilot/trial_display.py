"""The trial report's text in the reader's language: values, changes, method.

The page and the PDF both read their words from here, so they say the same.
"""

import base64
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from kotacerdas.city.models import Area
from kotacerdas.command.display import MISSING, decimal, figure_value
from kotacerdas.pilot.trial import AreaTable, Row
from kotacerdas.pilot.trial_metrics import TrialMetric
from kotacerdas.pilot.trial_report import TrialReport


def value_text(unit: str, value: int | None) -> str:
    if value is not None and unit == "hours":
        return _("%(amount)s h") % {"amount": decimal(Decimal(value) / 10, 1)}
    return figure_value(unit, value)


def change_text(unit: str, value: int | None) -> str:
    """Format a difference with its sign; rates change by percentage points."""
    if value is None:
        return MISSING
    sign = ""
    if value > 0:
        sign = "+"
    elif value < 0:
        sign = "-"
    if unit == "percent":
        amount = decimal(Decimal(abs(value)) / 10, 1)
        return _("%(sign)s%(amount)s points") % {"sign": sign, "amount": amount}
    return sign + value_text(unit, abs(value))


@dataclass(frozen=True)
class RowText:
    label: str
    baseline: str
    source: str
    trial: str
    change: str
    others: str
    difference: str


@dataclass(frozen=True)
class TableText:
    title: str
    rows: tuple[RowText, ...]


def source_label(source: str) -> str:
    return {"paper": _("paper"), "journal": _("journal")}.get(source, MISSING)


def row_text(row: Row) -> RowText:
    return RowText(
        label=str(TrialMetric(row.metric).label),
        baseline=value_text(row.unit, row.baseline),
        source=source_label(row.baseline_source),
        trial=value_text(row.unit, row.trial),
        change=change_text(row.unit, row.change),
        others=value_text(row.unit, row.others),
        difference=change_text(row.unit, row.difference),
    )


def tables_text(report: TrialReport) -> list[TableText]:
    names = dict(Area.objects.values_list("code", "name"))
    result = []
    for table in report.figures.tables:
        result.append(
            TableText(_table_title(table, names), tuple(map(row_text, table.rows)))
        )
    return result


def _table_title(table: AreaTable, names: dict[str, str]) -> str:
    if not table.kelurahan_code:
        return _("All pilot areas")
    name = names.get(table.kelurahan_code, table.kelurahan_code)
    return _("Kelurahan %(name)s (%(code)s)") % {
        "name": name,
        "code": table.kelurahan_code,
    }


def _day(value: date) -> str:
    return formats.date_format(value, "j F Y")


def period_texts(report: TrialReport) -> list[str]:
    figures = report.figures
    trial, baseline = figures.trial, figures.baseline
    return [
        _("Trial: %(start)s to %(end)s (%(days)s days).")
        % {"start": _day(trial.start), "end": _day(trial.end), "days": trial.days},
        _("Baseline: %(start)s to %(end)s, the same number of days before the pilot.")
        % {"start": _day(baseline.start), "end": _day(baseline.end)},
    ]


def method_texts(report: TrialReport) -> list[str]:
    """Describe how every column is computed, in sentences."""
    texts = [
        _(
            "Every figure is a sum of the command center's tallies, which fold"
            " the journal's events per day and kelurahan. Tallies go no finer"
            " than the kelurahan, so a pilot area that is an RW or RT counts"
            " its whole kelurahan."
        ),
        _(
            "Baseline: the same figures over the baseline period, from the"
            " journal, unless the city entered a figure from its paper records"
            " (marked “paper”); a paper figure is used as entered, for the"
            " period it names. For all pilot areas together, paper counts add"
            " up, and a rate with any paper part is left out."
        ),
        _(
            "Non-pilot areas: the other kelurahan of the city over the trial"
            " period. Counts and amounts are scaled to the pilot area's number"
            " of buildings; rates and averages are shown as they are."
        ),
        _(
            "Change is trial minus baseline; difference is trial minus"
            " non-pilot. Rates change by percentage points."
        ),
        _(
            "Levy collection rate: paid on the bills of the months the period"
            " touches, divided by their amount. Stops served on schedule:"
            " building stops on route plans of the period scanned on the plan's"
            " date with waste collected or none put out, divided by the building"
            " stops planned. Reports: citizen reports of a missed pickup filed"
            " in the period, and the average time from filing to closing of"
            " those closed in it. Waste banks: weight of the deposits posted."
            " Wallets: active citizen wallets at the end, placed by their"
            " household's kelurahan; transactions are posted transfers to or"
            " from them, fee transfers left out. Plates: plates installed in"
            " the period."
        ),
    ]
    return texts


def checkpoint_texts(report: TrialReport) -> list[str]:
    """Name the journal position and block the figures were computed at."""
    source = report.provenance
    texts = [
        _(
            "Computed at journal entry %(last)s: the rollups held entries 0 to"
            " %(last)s. Folding those entries again gives the same figures;"
            " `kotacerdas pilot report %(slug)s --check` does it."
        )
        % {"last": source.position - 1, "slug": report.pilot.slug},
    ]
    waiting = report.journal_size - source.position
    if waiting > 0:
        texts.append(
            _(
                "The journal had %(size)s entries; the last %(waiting)s were not"
                " folded yet, so these figures do not count them."
            )
            % {"size": report.journal_size, "waiting": waiting}
        )
    if source.block_root_hash is None or source.block_tree_size is None:
        texts.append(_("No block was sealed yet when the report was made."))
    else:
        texts.append(
            _(
                "Latest sealed block: number %(height)s, tree size %(size)s,"
                " root hash (base64) %(root)s, sealed %(sealed)s."
            )
            % {
                "height": source.block_height,
                "size": source.block_tree_size,
                "root": base64.b64encode(source.block_root_hash).decode(),
                "sealed": formats.date_format(
                    timezone.localtime(source.block_sealed_at), "j F Y H:i"
                ),
            }
        )
    moment = timezone.localtime(report.generated_at)
    texts.append(
        _("Report made %(moment)s.")
        % {"moment": formats.date_format(moment, "j F Y H:i")}
    )
    return texts
