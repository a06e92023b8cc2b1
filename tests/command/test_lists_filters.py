"""Drill-down lists: who may open them, and messages for filters that cannot work.

These tests need no demo city: the filters are checked before any row is
read, and an empty list still shows its form, count and exports.
"""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kotacerdas.command import lists_export
from kotacerdas.command.lists import CHOICE, CODE, DATETIME, NUMBER, PERCENT, Column
from kotacerdas.command.lists_defs import KNOWN_PARAMS, LISTS

pytestmark = pytest.mark.django_db

VIEWERS = {"admin", "auditor", "command_center"}


@pytest.fixture(autouse=True)
def _english(settings):
    """Assert the English source messages (tests/i18n checks the catalogue)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def viewer(signed_in):
    return signed_in("command_center")


def list_url(name: str, params: dict[str, str] | None = None) -> str:
    url = reverse("command:list", kwargs={"name": name})
    return f"{url}?{urlencode(params)}" if params else url


def export_url(name: str, file_format: str, params: dict[str, str]) -> str:
    url = reverse(
        "command:list_export", kwargs={"name": name, "file_format": file_format}
    )
    return f"{url}?{urlencode(params)}"


def error_lines(response) -> list[str]:
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    return [str(line) for line in response.context["errors"]]


# ------------------------------------------------------------------ access


def test_lists_open_only_for_dashboard_roles(personas, signed_in):
    assert len(personas) == 12  # eleven roles and one user without a role
    for persona in personas:
        client = signed_in(persona)
        for url in (list_url("bills"), export_url("bills", "csv", {})):
            response = client.get(url)
            expected = 200 if persona in VIEWERS else 403
            assert response.status_code == expected, (persona, url)


def test_lists_send_strangers_to_login(city):
    response = Client().get(list_url("buildings"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_unknown_list_and_format_not_found(viewer):
    assert viewer.get(list_url("citizens")).status_code == 404
    assert viewer.get(export_url("bills", "pdf", {})).status_code == 404


# --------------------------------------------------------- empty list page


def test_every_list_renders_empty(viewer):
    for name, definition in LISTS.items():
        response = viewer.get(list_url(name))
        page = response.content.decode()

        assert response.status_code == 200, name
        assert f"<h1>{definition.title}</h1>" in page
        assert reverse("command:dashboard") in page
        assert 'data-count="0"' in page
        assert "No row matches these filters." in page
        for file_format in lists_export.FORMATS:
            assert f'data-export="{file_format}"' in page


def test_defaults_shown_in_form(viewer):
    response = viewer.get(list_url("wallets"))
    form = response.context["form"]

    assert form["kind"].value() == "citizen"
    assert form["status"].value() == "active"
    routes = viewer.get(list_url("routes")).context["form"]
    assert routes["period"].value() == "today"
    review = viewer.get(list_url("pickups", {"review": "pending"})).context["form"]
    assert review["repeats"].value() == "include"
    plain = viewer.get(list_url("pickups")).context["form"]
    assert plain["repeats"].value() == "exclude"


# ---------------------------------------------------------- bad filters


def test_bad_choice_names_field_and_values(viewer):
    for name, definition in LISTS.items():
        for choice in definition.choices:
            response = viewer.get(list_url(name, {choice.param: "bogus"}))
            lines = error_lines(response)

            assert len(lines) == 1, (name, choice.param)
            assert lines[0].startswith(f"{choice.label}: “bogus” is not a valid")
            for option in choice.options:
                assert option.value in lines[0]
            assert response.context["page"] is None


def test_bad_kelurahan_named(viewer):
    lines = error_lines(viewer.get(list_url("buildings", {"kelurahan": "13.74.99"})))

    assert lines[0].startswith("Kelurahan: “13.74.99” is not a valid choice.")
    assert "13.74.02.1002" in lines[0]


def test_bad_dates_explained(viewer):
    today = timezone.localdate()
    cases = [
        (
            {"period": "custom", "from": "31-03-2026"},
            "From: Enter the date as YYYY-MM-DD, such as 2026-03-31.",
        ),
        (
            {"period": "custom"},
            "From: Enter a from date, a to date or both, such as 2026-03-01.",
        ),
        (
            {"period": "today", "from": today.isoformat()},
            "Period: From and to dates need the period “Dates from and to”."
            " Choose it, or remove the dates.",
        ),
        (
            {"from": today.isoformat(), "to": (today - timedelta(1)).isoformat()},
            "To: The to date is before the from date."
            f" Enter {today.isoformat()} or later.",
        ),
        (
            {"from": "0001-01-01"},
            "From: Enter a date from 2000-01-01 to 2099-12-31.",
        ),
        (
            {"to": "9999-12-31"},
            "To: Enter a date from 2000-01-01 to 2099-12-31.",
        ),
    ]
    for params, message in cases:
        lines = error_lines(viewer.get(list_url("transfers", params)))

        assert lines == [message], params


def test_bills_have_no_today_period(viewer):
    lines = error_lines(viewer.get(list_url("bills", {"period": "today"})))

    assert lines == [
        "Period: “today” is not a valid choice. Use one of: all, month, custom."
    ]


def test_filter_of_another_list_rejected(viewer):
    lines = error_lines(viewer.get(list_url("buildings", {"outcome": "collected"})))

    assert lines == [
        "This list has no “outcome” filter. Remove it from the address, or"
        " open a list that has it."
    ]
    containers = viewer.get(list_url("containers", {"period": "today"}))
    assert "This list has no “period” filter." in error_lines(containers)[0]


def test_bad_sort_lists_columns(viewer):
    lines = error_lines(viewer.get(list_url("bills", {"sort": "-payer"})))

    assert lines[0].startswith("Sort: “-payer” is not a column to sort by.")
    assert "number, month, kelurahan" in lines[0]


def test_export_with_bad_filter_shows_page(viewer):
    response = viewer.get(export_url("pickups", "csv", {"outcome": "lost"}))

    assert response["Content-Type"].startswith("text/html")
    assert error_lines(response)[0].startswith("Outcome: “lost” is not a valid")


def test_export_over_cap_explained(viewer, monkeypatch):
    monkeypatch.setitem(lists_export.MAX_ROWS, "xlsx", -1)

    response = viewer.get(export_url("reports", "xlsx", {"status": "open"}))
    page = response.content.decode()

    assert response.status_code == 400
    assert (
        "This list has 0 rows, more than the -1 a XLSX file may hold. Narrow the"
        " filters (a kelurahan, a shorter period or a status) and download again."
    ) in page
    assert 'data-export="xlsx"' in page
    assert "narrow the filters to download" in page


PARAM_VALUES = st.one_of(
    st.sampled_from(
        ["", "all", "today", "month", "custom", "live", "open", "-", "2026-02-30"]
    ),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=12),
    st.dates().map(lambda day: day.isoformat()),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    name=st.sampled_from(sorted(LISTS)),
    params=st.dictionaries(
        st.sampled_from(sorted(KNOWN_PARAMS)), PARAM_VALUES, max_size=4
    ),
)
def test_any_filters_page_or_message(viewer, name, params):
    response = viewer.get(list_url(name, params))

    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert response.context["errors"]


# ------------------------------------------------------------------- cells


def test_export_cells_keep_types_and_block_formulas():
    code = Column("code", "code", CODE)
    number = Column("n", "n", NUMBER)
    fill = Column("fill", "fill", PERCENT)
    kind = Column("kind", "kind", CHOICE, labels={"citizen": "Citizen wallet"})
    when = Column("at", "at", DATETIME)
    moment = timezone.now().replace(microsecond=0)

    assert lists_export.cell(code, "=HYPERLINK(1)", "csv") == "'=HYPERLINK(1)"
    assert lists_export.cell(code, "-5", "xlsx") == "'-5"
    assert lists_export.cell(code, "PPJ-B-1", "csv") == "PPJ-B-1"
    assert lists_export.cell(number, 1234, "xlsx") == 1234
    assert lists_export.cell(number, None, "csv") == ""
    assert lists_export.cell(fill, "0.855", "csv") == 85.5
    assert lists_export.cell(kind, "citizen", "csv") == "Citizen wallet"
    local = timezone.localtime(moment)
    assert lists_export.cell(when, moment, "csv") == local.isoformat()
    assert lists_export.cell(when, moment, "xlsx") == local.replace(tzinfo=None)
