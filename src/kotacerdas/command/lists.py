"""Drill-down lists behind the dashboard's figures: columns, filters, sorting.

A list (`ListDef`, the ten of them in `lists_defs`) reads one domain table
through `values_list()`, so neither a page nor an export loads a model row
and no column can leak a field it does not name. Columns hold codes,
numbers, kinds, statuses, amounts, times and kelurahan names, never a
person's name, NIK, KK number, phone, address or a home's coordinates.

Filters arrive as GET parameters (`ListForm`), the same ones the dashboard's
figures link with (`FigureDef.drill`). A choice filter that is absent uses its
list's default, which is what makes a figure's drill link count the same rows
as the figure (buildings not demolished, active citizen wallets).
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import F, Q, QuerySet, Sum
from django.db.models.expressions import Combinable
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kotacerdas.command.figures import Period

PAGE_SIZE = 50

Condition = Callable[[Period], Q]


def where(q: Q) -> Condition:
    """Wrap `q` as a condition that does not depend on the clock."""
    return lambda _period: q


@dataclass(frozen=True)
class Option:
    """One value of a choice filter; `condition` None means every row."""

    value: str
    label: Promise
    condition: Condition | None = None


ALL = "all"


@dataclass(frozen=True)
class ChoiceFilter:
    """A filter with fixed values (status, kind, outcome), read from `param`.

    `default` is the value used when the parameter is absent or empty. A
    callable default gets the other parameters as sent, because a pickup list
    includes repeat scans only when a review filter is set.
    """

    param: str
    label: Promise
    options: tuple[Option, ...]
    default: str | Callable[[Mapping[str, str]], str] = ALL

    def option(self, value: str) -> Option | None:
        return next((o for o in self.options if o.value == value), None)

    def default_for(self, params: Mapping[str, str]) -> str:
        return self.default(params) if callable(self.default) else self.default


def choices_of(
    values: Sequence[tuple[str, Any]], field_name: str, all_label: Promise
) -> tuple[Option, ...]:
    """Options for a model field's choices, plus `all` first."""
    return (
        Option(ALL, all_label),
        *(Option(v, label, where(Q(**{field_name: v}))) for v, label in values),
    )


# Periods: the dates a list's rows are dated by, as the dashboard counts them.
PERIOD_ALL = "all"
PERIOD_TODAY = "today"
PERIOD_MONTH = "month"
PERIOD_CUSTOM = "custom"
PERIOD_LABELS: dict[str, Promise] = {
    PERIOD_ALL: _("Any time"),
    PERIOD_TODAY: _("Today"),
    PERIOD_MONTH: _("This month"),
    PERIOD_CUSTOM: _("Dates from and to"),
}


@dataclass(frozen=True)
class DateRange:
    """A list's period filter: the field it applies to and that field's type.

    `kind` is "datetime" (an aware timestamp, compared by local day), "date"
    (a plan's day) or "month" (a bill's month, stored as its first day).
    """

    field: str
    kind: str
    label: Promise
    periods: tuple[str, ...] = (
        PERIOD_ALL,
        PERIOD_TODAY,
        PERIOD_MONTH,
        PERIOD_CUSTOM,
    )
    default: str = PERIOD_ALL

    def condition(self, start: date | None, end: date | None) -> Q:
        """Rows dated from `start` to `end`, both local days and inclusive."""
        q = Q()
        if self.kind == "datetime":
            if start is not None:
                q &= Q(**{f"{self.field}__gte": local_midnight(start)})
            if end is not None:
                q &= Q(**{f"{self.field}__lt": local_midnight(end + timedelta(1))})
            return q
        if self.kind == "month":
            start = start.replace(day=1) if start else None
            end = end.replace(day=1) if end else None
        if start is not None:
            q &= Q(**{f"{self.field}__gte": start})
        if end is not None:
            q &= Q(**{f"{self.field}__lte": end})
        return q


def local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


# Column kinds, which decide how a value is shown and exported.
TEXT = "text"
CODE = "code"
NUMBER = "number"  # a count or measure, shown with digit grouping
ID = "id"  # a row's number, shown as it is
RUPIAH = "rupiah"
DATETIME = "datetime"
DATE = "date"
MONTH = "month"
CHOICE = "choice"
PERCENT = "percent"  # a fraction 0-1, shown as a whole percent


@dataclass(frozen=True)
class Column:
    """One column: its key (the `sort` value), label, kind and source.

    `source` is a field path or an expression; None means the key is the
    field name. `labels` turns stored choice values into the reader's words.
    A `total` column is summed over the whole filtered list.
    """

    key: str
    label: Promise
    kind: str = TEXT
    source: str | Combinable | None = None
    labels: Mapping[str, Any] | None = None
    total: bool = False
    sortable: bool = True

    @property
    def alias(self) -> str:
        # Prefixed, so a column named like a model field cannot clash with it.
        return f"col_{self.key}"

    def expression(self) -> Combinable:
        if self.source is None:
            return F(self.key)
        if isinstance(self.source, str):
            return F(self.source)
        return self.source


@dataclass(frozen=True)
class ListDef:
    """One drill-down list: what rows it reads and how they can be filtered."""

    name: str
    title: Promise
    description: Promise
    rows: Callable[[], QuerySet[Any]]
    columns: tuple[Column, ...]
    default_sort: str
    count_text: Callable[[int], str]
    dates: DateRange | None = None
    # Field paths of the row's kelurahan code; a row matches if any path does.
    kelurahan: tuple[str, ...] = ()
    choices: tuple[ChoiceFilter, ...] = ()
    filename: Promise = field(default_factory=lambda: _("list"))

    def column(self, key: str) -> Column | None:
        return next((c for c in self.columns if c.key == key), None)

    @property
    def params(self) -> set[str]:
        """Every query parameter this list reads."""
        names = {"sort", "page"} | {c.param for c in self.choices}
        if self.dates is not None:
            names |= {"period", "from", "to"}
        if self.kelurahan:
            names.add("kelurahan")
        return names


@dataclass(frozen=True)
class Selection:
    """A list with valid filters: what the page, the count and exports read."""

    definition: ListDef
    period: Period
    choices: dict[str, str]
    kelurahan: str | None = None
    period_name: str = PERIOD_ALL
    start: date | None = None
    end: date | None = None
    sort: str = ""

    def filtered(self) -> QuerySet[Any]:
        """Return the definition's rows that pass every filter, not yet ordered."""
        rows = self.definition.rows()
        for choice in self.definition.choices:
            option = choice.option(self.choices[choice.param])
            if option is not None and option.condition is not None:
                rows = rows.filter(option.condition(self.period))
        if self.kelurahan is not None:
            matches = Q()
            for path in self.definition.kelurahan:
                matches |= Q(**{path: self.kelurahan})
            rows = rows.filter(matches)
        if self.definition.dates is not None and (self.start or self.end):
            rows = rows.filter(self.definition.dates.condition(self.start, self.end))
        return rows

    def annotated(self) -> QuerySet[Any]:
        columns = self.definition.columns
        return self.filtered().annotate(**{c.alias: c.expression() for c in columns})

    def ordered(self) -> QuerySet[Any]:
        """Return the sorted rows as tuples of every column's value, in column order."""
        sort = self.sort or self.definition.default_sort
        descending = sort.startswith("-")
        column = self.definition.column(sort.lstrip("-"))
        assert column is not None, sort
        order = F(column.alias).desc(nulls_last=True) if descending else F(column.alias)
        # The primary key last, so pages split at the same row on every request.
        pk = "-pk" if descending else "pk"
        rows = self.annotated().order_by(order, pk)
        return rows.values_list(*(c.alias for c in self.definition.columns))

    def totals(self) -> dict[str, int]:
        """Sum each total column over every filtered row."""
        summed = [c for c in self.definition.columns if c.total]
        if not summed:
            return {}
        sums = self.annotated().aggregate(
            **{f"sum_{c.key}": Sum(c.alias) for c in summed}
        )
        return {c.key: int(sums[f"sum_{c.key}"] or 0) for c in summed}

    def query_params(self) -> dict[str, str]:
        """Return the filters as query parameters, defaults included, page excluded."""
        params = dict(self.choices)
        if self.kelurahan is not None:
            params["kelurahan"] = self.kelurahan
        if self.definition.dates is not None:
            params["period"] = self.period_name
            if self.period_name == PERIOD_CUSTOM:
                if self.start is not None:
                    params["from"] = self.start.isoformat()
                if self.end is not None:
                    params["to"] = self.end.isoformat()
        if self.sort:
            params["sort"] = self.sort
        return params


def period_dates(name: str, period: Period) -> tuple[date | None, date | None]:
    """Return the first and last day of a named period (custom dates: the form's)."""
    if name == PERIOD_TODAY:
        return period.today, period.today
    if name == PERIOD_MONTH:
        return period.month_start, period.today
    return None, None
