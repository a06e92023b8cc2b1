"""The dashboard's charts: Chart.js settings and the same numbers as a table.

Each chart is built on the server with translated labels and passed to the
page with `json_script`; command/dashboard.js only draws it. The table beside
each chart contains the same numbers for screen readers and for printing.
Per-day charts cover the last `figures.SERIES_DAYS` days up to today.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from kotacerdas.command import display, figures, panels
from kotacerdas.command.figures import Period, Tallies
from kotacerdas.waste.models import SortingGroup

# One colour per sorting group, so a group keeps its colour on every day.
GROUP_COLORS = {
    SortingGroup.MIXED: "#7b8794",
    SortingGroup.ORGANIC: "#2e8540",
    SortingGroup.RECYCLABLE: "#1f6fb2",
    SortingGroup.REUSABLE: "#8e5cc4",
    SortingGroup.RESIDUE: "#a0662b",
    SortingGroup.HAZARDOUS: "#c0392b",
}
PRIMARY = "#0b6e4f"
SECONDARY = "#e08a00"


@dataclass
class Chart:
    """A chart's id, title, description, Chart.js settings and fallback table."""

    id: str
    title: str
    description: str
    config: dict[str, Any]
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    # Bars of a horizontal bar chart. Its box grows with them, so no label is skipped.
    bar_rows: int = 0

    @property
    def has_data(self) -> bool:
        return any(
            value
            for dataset in self.config["data"]["datasets"]
            for value in dataset["data"]
            if value
        )


def _days(period: Period, days: int) -> list[date]:
    start = period.today - timedelta(days=days - 1)
    return [start + timedelta(days=i) for i in range(days)]


def _day_label(day: date) -> str:
    return date_format(day, "j M")


def _dataset(
    label: str, data: list[Any], color: str, kind: str = "bar", axis: str = "y"
) -> dict[str, Any]:
    return {"type": kind, "label": label, "data": data, "color": color, "yAxisID": axis}


def _config(
    labels: list[str],
    datasets: list[dict[str, Any]],
    units: dict[str, str],
    axis_titles: dict[str, str],
    **options: Any,
) -> dict[str, Any]:
    """Return Chart.js settings. `units` names how dashboard.js formats each axis."""
    return {
        "type": "bar",
        "data": {"labels": labels, "datasets": datasets},
        "units": units,
        "axisTitles": axis_titles,
        **options,
    }


def transactions_chart(tallies: Tallies, period: Period) -> Chart:
    days = _days(period, figures.SERIES_DAYS)
    counts = dict(figures.daily_series(tallies, "transfers", len(days), period.today))
    values = dict(
        figures.daily_series(tallies, "transfer_value", len(days), period.today)
    )
    count_label, value_label = _("Transactions"), _("Value (Rp)")
    return Chart(
        id="chart-transactions",
        title=_("Transactions per day"),
        description=_(
            "Posted wallet transfers per day over the last %(days)s days:"
            " their number as bars and their rupiah value as a line."
        )
        % {"days": len(days)},
        config=_config(
            [_day_label(day) for day in days],
            [
                _dataset(count_label, [counts[d] for d in days], PRIMARY),
                _dataset(
                    value_label, [values[d] for d in days], SECONDARY, "line", "y1"
                ),
            ],
            {"y": "count", "y1": "rupiah"},
            {"y": count_label, "y1": value_label},
        ),
        columns=[_("Day"), count_label, value_label],
        rows=[
            [
                _day_label(d),
                display.count(counts[d]),
                display.figure_value("rupiah", values[d]),
            ]
            for d in days
        ],
    )


def waste_chart(tallies: Tallies, period: Period) -> Chart:
    """Chart tonnage per day stacked by sorting group, with pickups as a line."""
    days = _days(period, figures.SERIES_DAYS)
    labels = dict(SortingGroup.choices)
    grams_by_group = {
        group: tallies.grouped("tonnage_g", "day", days[0], days[-1], key=group)
        for group in SortingGroup.values
    }
    groups = [group for group, sums in grams_by_group.items() if any(sums.values())]
    pickups = dict(figures.daily_series(tallies, "pickups", len(days), days[-1]))

    def grams_on(group: str, day: date) -> int:
        return grams_by_group[group].get(day.isoformat(), 0)

    pickups_label, kg_label = _("Pickups"), _("Collected (kg)")
    datasets = [
        _dataset(
            str(labels[group]),
            [grams_on(group, day) / 1000 for day in days],
            GROUP_COLORS[SortingGroup(group)],
        )
        for group in groups
    ]
    datasets.append(
        _dataset(pickups_label, [pickups[d] for d in days], SECONDARY, "line", "y1")
    )

    rows = [
        [
            _day_label(day),
            *(display.grams(grams_on(group, day)) for group in groups),
            display.count(pickups[day]),
        ]
        for day in days
    ]
    return Chart(
        id="chart-waste",
        title=_("Pickups and waste collected per day"),
        description=_(
            "Kilograms of waste collected per day over the last %(days)s days,"
            " stacked by sorting group, and the number of pickups as a line."
        )
        % {"days": len(days)},
        config=_config(
            [_day_label(day) for day in days],
            datasets,
            {"y": "kg", "y1": "count"},
            {"y": kg_label, "y1": pickups_label},
            stacked=True,
        ),
        columns=[_("Day"), *(str(labels[group]) for group in groups), pickups_label],
        rows=rows,
    )


def collection_rate_chart(lines: list[panels.KelurahanLine]) -> Chart:
    billed = [line for line in lines if line.row.collection_rate is not None]
    label = _("Collection rate (%)")
    return Chart(
        id="chart-collection-rate",
        title=_("Levy collection rate per kelurahan this month"),
        description=_(
            "Levy collected on this month's bills as a percentage of levy billed,"
            " one bar per kelurahan with bills this month."
        ),
        config=_config(
            [line.name for line in billed],
            [
                _dataset(
                    label,
                    [(line.row.collection_rate or 0) / 10 for line in billed],
                    PRIMARY,
                )
            ],
            {"x": "percent"},
            {"x": label},
            indexAxis="y",
        ),
        bar_rows=len(billed),
        columns=[_("Kelurahan"), _("Billed"), _("Collected"), _("Collection rate")],
        rows=[
            [
                line.name,
                line.levy_billed_text,
                line.levy_collected_text,
                line.collection_rate_text,
            ]
            for line in billed
        ],
    )


def routes_chart(routes: list[panels.RouteRow]) -> Chart:
    planned_label, done_label = _("Stops planned"), _("Pickups done")
    return Chart(
        id="chart-routes",
        title=_("Today's routes: planned and done"),
        description=_(
            "For each of today's route plans, by vehicle: the stops planned and"
            " the pickups recorded so far."
        ),
        config=_config(
            [route.vehicle for route in routes],
            [
                _dataset(planned_label, [r.planned for r in routes], "#9aa5b1"),
                _dataset(done_label, [r.done for r in routes], PRIMARY),
            ],
            {"y": "count"},
            {"y": _("Stops")},
        ),
        columns=[_("Vehicle"), planned_label, done_label],
        rows=[
            [r.vehicle, display.count(r.planned), display.count(r.done)] for r in routes
        ],
    )
