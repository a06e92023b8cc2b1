"""The GET form of a drill-down list: its filters, checked, with clear errors.

Each message names the value that was sent and what to send instead, because
a bad value mostly comes from an edited or old address, not from the form.
"""

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from kotacerdas.city.models import Area
from kotacerdas.command.figures import Period
from kotacerdas.command.lists import (
    PERIOD_CUSTOM,
    PERIOD_LABELS,
    ListDef,
    Selection,
    period_dates,
)

DATE_FORMAT = "%Y-%m-%d"
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format=DATE_FORMAT)


def kelurahan_choices() -> list[tuple[str, str]]:
    rows = Area.objects.exclude(level=Area.Level.KECAMATAN).order_by("name")
    return list(rows.values_list("code", "name"))


def _choice_field(label: Any, options: Sequence[tuple[str, Any]]) -> forms.ChoiceField:
    # Built per request, so the message is in the request's language.
    values = ", ".join(value for value, _label in options if value)
    message = _("“%(value)s” is not a valid choice. Use one of: %(values)s.")
    return forms.ChoiceField(
        label=label,
        required=False,
        choices=options,
        # The field fills in %(value)s itself, so only the values go in here.
        error_messages={"invalid_choice": message.replace("%(values)s", values)},
    )


def _date_field(label: Any) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        input_formats=[DATE_FORMAT],
        widget=DateInput(),
        error_messages={
            "invalid": _("Enter the date as YYYY-MM-DD, such as 2026-03-31.")
        },
    )


def _check_year(day: date | None) -> date | None:
    # Far dates overflow when moved to UTC, and no city record is dated there.
    if day is not None and not FIRST_DAY <= day <= LAST_DAY:
        raise forms.ValidationError(
            _("Enter a date from %(first)s to %(last)s.")
            % {"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()}
        )
    return day


class ListForm(forms.Form):
    """The filters of one list, bound to the request's parameters.

    Absent or empty choice parameters are bound to the list's defaults, so
    the form shows what the list applies.
    """

    def __init__(self, definition: ListDef, params: QueryDict) -> None:
        self.definition = definition
        self.sent = {key: params.get(key, "").strip() for key in params}
        super().__init__(self._with_defaults(self.sent))
        for choice in definition.choices:
            values = [(o.value, o.label) for o in choice.options]
            self.fields[choice.param] = _choice_field(choice.label, values)
        if definition.kelurahan:
            areas = [("", _("All kelurahan")), *kelurahan_choices()]
            self.fields["kelurahan"] = _choice_field(_("Kelurahan"), areas)
        if definition.dates is not None:
            dates = definition.dates
            periods = [(p, PERIOD_LABELS[p]) for p in dates.periods]
            self.fields["period"] = _choice_field(_("Period"), periods)
            self.fields["from"] = _date_field(pgettext_lazy("date range", "From"))
            self.fields["to"] = _date_field(pgettext_lazy("date range", "To"))
        self.fields["sort"] = forms.CharField(
            label=_("Sort"), required=False, max_length=40, widget=forms.HiddenInput
        )

    def _with_defaults(self, sent: Mapping[str, str]) -> dict[str, str]:
        data = {key: value for key, value in sent.items() if value}
        for choice in self.definition.choices:
            data.setdefault(choice.param, choice.default_for(sent))
        dates = self.definition.dates
        if dates is not None and "period" not in data:
            dated = data.get("from") or data.get("to")
            data["period"] = PERIOD_CUSTOM if dated else dates.default
        if "kelurahan" in data:
            data["kelurahan"] = _dotted(data["kelurahan"])
        return data

    def clean_sort(self) -> str:
        sort: str = self.cleaned_data["sort"]
        column = self.definition.column(sort.lstrip("-")) if sort else None
        if sort and (column is None or not column.sortable):
            keys = ", ".join(c.key for c in self.definition.columns if c.sortable)
            raise forms.ValidationError(
                _(
                    "“%(value)s” is not a column to sort by. Use one of: %(keys)s,"
                    " with a leading minus sign for descending order."
                )
                % {"value": sort, "keys": keys}
            )
        return sort

    def clean_from(self) -> date | None:
        return _check_year(self.cleaned_data["from"])

    def clean_to(self) -> date | None:
        return _check_year(self.cleaned_data["to"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self._reject_foreign_filters()
        if self.definition.dates is not None:
            self._check_dates(data)
        return data

    def _reject_foreign_filters(self) -> None:
        from kotacerdas.command.lists_defs import KNOWN_PARAMS

        for param in sorted(KNOWN_PARAMS - self.definition.params):
            if self.sent.get(param):
                self.add_error(
                    None,
                    _(
                        "This list has no “%(param)s” filter. Remove it from the"
                        " address, or open a list that has it."
                    )
                    % {"param": param},
                )

    def _check_dates(self, data: dict[str, Any]) -> None:
        period = data.get("period")
        start: date | None = data.get("from")
        end: date | None = data.get("to")
        label = PERIOD_LABELS[PERIOD_CUSTOM]
        if period and period != PERIOD_CUSTOM and (start or end):
            self.add_error(
                "period",
                _(
                    "From and to dates need the period “%(label)s”. Choose it,"
                    " or remove the dates."
                )
                % {"label": label},
            )
        elif period == PERIOD_CUSTOM and not (start or end) and not self.errors:
            self.add_error(
                "from",
                _("Enter a from date, a to date or both, such as 2026-03-01."),
            )
        elif start and end and end < start:
            self.add_error(
                "to",
                _("The to date is before the from date. Enter %(day)s or later.")
                % {"day": start.isoformat()},
            )

    def selection(self, period: Period) -> Selection:
        """Return the valid filters as a Selection. Call it after is_valid()."""
        data = self.cleaned_data
        choices = {c.param: data[c.param] for c in self.definition.choices}
        name = data.get("period") or ""
        start, end = period_dates(name, period)
        if name == PERIOD_CUSTOM:
            start, end = data.get("from"), data.get("to")
        return Selection(
            definition=self.definition,
            period=period,
            choices=choices,
            kelurahan=data.get("kelurahan") or None,
            period_name=name,
            start=start,
            end=end,
            sort=data.get("sort", ""),
        )

    def error_lines(self) -> list[str]:
        """List every error as one line that starts with the field's label."""
        lines = [str(error) for error in self.non_field_errors()]
        for name, errors in self.errors.items():
            if name == NON_FIELD_ERRORS:
                continue
            label = self.fields[name].label or name
            lines += [f"{label}: {error}" for error in errors]
        return lines


def _dotted(code: str) -> str:
    """Accept a Kemendagri code without dots too (1374021002)."""
    if "." in code or not code.isdigit() or len(code) != 10:
        return code
    return f"{code[:2]}.{code[2:4]}.{code[4:6]}.{code[6:]}"
