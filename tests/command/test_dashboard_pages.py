"""The dashboard, its fragments, the explain page and the API on the demo city.

The demo city takes many seconds to build, so one test builds it once and
checks every page against the same figures: what `figures.compute` returns
from the rollups is what the page, each fragment and the API show. At the
end it changes a stored tally by hand, as a broken rollup would, and the
explain page must show the two values apart with a warning.
"""

import json
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from kotacerdas.command import (
    alerts,
    display,
    figures,
    panels,
    projector,
    views_dashboard,
)
from kotacerdas.command.figures import StoredTallies
from kotacerdas.command.models import Tally
from kotacerdas.demo import services as demo
from kotacerdas.journal.services import journal_size
from kotacerdas.waste.models import Alert, RoutePlan

pytestmark = pytest.mark.django_db
SEED = 5


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def demo_city(city):
    demo.create_demo_city()
    demo.build_demo_registry("small", SEED)
    demo.build_demo_activity(SEED)
    projector.catch_up()
    return city


class Cards(HTMLParser):
    """Collect the figure cards of a page: key -> value, text and both links."""

    def __init__(self) -> None:
        super().__init__()
        self.cards: dict[str, dict[str, str]] = {}
        self.current: dict[str, str] | None = None
        self.in_value = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if (
            "data-figure-key" in attributes
            and attributes.get("data-testid") == "figure"
        ):
            self.current = {"value": attributes["data-value"], "text": ""}
            self.cards[attributes["data-figure-key"]] = self.current
        elif self.current is not None and tag == "a":
            if attributes.get("data-testid") == "figure-value":
                self.current["drill"] = attributes["href"]
                self.in_value = True
            elif attributes.get("data-testid") == "explain-link":
                self.current["explain"] = attributes["href"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self.in_value = False

    def handle_data(self, data: str) -> None:
        if self.in_value and self.current is not None:
            self.current["text"] += data


def cards_of(html: str) -> dict[str, dict[str, str]]:
    parser = Cards()
    parser.feed(html)
    return parser.cards


def chart_configs(html: str) -> dict[str, dict]:
    """Return the json_script chart settings of a page, by chart id."""
    configs = {}
    for chart_id in (
        "chart-transactions",
        "chart-waste",
        "chart-collection-rate",
        "chart-routes",
    ):
        start = html.index(f'<script id="{chart_id}-config" type="application/json">')
        start = html.index(">", start) + 1
        end = html.index("</script>", start)
        configs[chart_id] = json.loads(html[start:end])
    return configs


def expected_drill(definition: figures.FigureDef) -> str:
    name, params = definition.drill
    url = reverse("command:list", kwargs={"name": name})
    return f"{url}?{urlencode(params)}" if params else url


def check_cards(html: str, computed: list[figures.Figure]) -> None:
    cards = cards_of(html)
    assert set(cards) == {figure.key for figure in computed}
    for figure in computed:
        card = cards[figure.key]
        definition = figure.definition
        expected_value = "" if figure.value is None else str(figure.value)
        assert card["value"] == expected_value, figure.key
        assert card["text"] == display.figure_value(definition.unit, figure.value)
        assert card["drill"] == expected_drill(definition), figure.key
        explain = reverse("command:explain", kwargs={"key": figure.key})
        assert card["explain"] == explain, figure.key


def check_tables(html: str, context) -> None:
    tallies = StoredTallies()
    today = timezone.localdate()
    rows = figures.by_kelurahan(tallies)
    names = panels.kelurahan_names()
    lines = context["kelurahan_lines"]
    assert [line.code for line in lines] == sorted(names, key=names.get)
    assert len(lines) == 16
    for line in lines:
        assert line.name in html
        if line.code in rows:
            assert line.row == rows[line.code], line.code

    planned = figures.by_key(tallies, "route_stops", today, today)
    done = figures.by_key(tallies, "route_done", today, today)
    routes = context["routes"]
    assert routes, "the demo plans today's routes"
    assert {str(route.plan_id) for route in routes} == set(planned) | set(done)
    plates = dict(RoutePlan.objects.values_list("pk", "vehicle__plate_number"))
    for route in routes:
        assert route.vehicle == plates[route.plan_id]
        assert route.planned == planned.get(str(route.plan_id), 0)
        assert route.done == done.get(str(route.plan_id), 0)
        assert f'data-plan-id="{route.plan_id}"' in html

    month = figures.Period.current().month_start
    tonnage = figures.by_key(tallies, "tonnage_g", month, today)
    assert {row.group: row.month_g for row in context["tonnage"]} == tonnage


def check_charts(html: str) -> None:
    tallies = StoredTallies()
    configs = chart_configs(html)
    counts = [n for _day, n in figures.daily_series(tallies, "transfers")]
    values = [n for _day, n in figures.daily_series(tallies, "transfer_value")]
    transactions = configs["chart-transactions"]["data"]["datasets"]
    assert transactions[0]["data"] == counts
    assert transactions[1]["data"] == values
    assert sum(counts) > 0
    pickups = [n for _day, n in figures.daily_series(tallies, "pickups")]
    assert configs["chart-waste"]["data"]["datasets"][-1]["data"] == pickups
    rates = configs["chart-collection-rate"]["data"]
    billed = [row for row in figures.by_kelurahan(tallies).values() if row.levy_billed]
    assert len(rates["labels"]) == len(billed)
    routes = configs["chart-routes"]["data"]["datasets"]
    today = timezone.localdate()
    planned = figures.by_key(tallies, "route_stops", today, today)
    assert sum(routes[0]["data"]) == sum(planned.values())


def check_api(client, user, computed: list[figures.Figure]) -> None:
    position = projector.position()
    body = client.get("/api/command/figures").json()
    assert [row["key"] for row in body] == [figure.key for figure in computed]
    for row, figure in zip(body, computed, strict=True):
        assert row["value"] == figure.value, figure.key
        assert row["unit"] == figure.definition.unit
        assert row["section"] == figure.definition.section
        assert row["label"] == str(figure.definition.label)
        assert row["as_of_seq"] == position - 1

    kelurahan = {
        row["code"]: row for row in client.get("/api/command/kelurahan").json()
    }
    for code, row in figures.by_kelurahan(StoredTallies()).items():
        assert kelurahan[code]["buildings"] == row.buildings, code
        assert kelurahan[code]["levy_collected"] == row.levy_collected, code
        assert kelurahan[code]["collection_rate"] == row.collection_rate, code

    series = client.get("/api/command/series/transfers", {"days": 30}).json()
    expected = figures.daily_series(StoredTallies(), "transfers", 30)
    assert [(p["day"], p["value"]) for p in series["points"]] == [
        (day.isoformat(), n) for day, n in expected
    ]

    alert_ids = [row["id"] for row in client.get("/api/command/alerts").json()]
    assert alert_ids == [item.id for item in alerts.feed(user)]


def check_explain(client) -> None:
    url = reverse("command:explain", kwargs={"key": "collection_rate"})
    response = client.get(url)
    html = response.content.decode()
    explanation = response.context["explanation"]
    assert explanation.agrees
    assert explanation.stored is not None
    assert explanation.size == projector.position()
    assert 'data-testid="verdict"' in html
    assert "The two values agree." in html
    assert f"Journal entries 0 to {projector.position() - 1}" in html
    assert "def _bill_paid" in html
    assert "levy.payment.recorded" in html

    # A rollup changed behind the fold's back: the stored value moves, the
    # recomputation from the journal does not.
    month = figures.Period.current().month_start
    row = Tally.objects.filter(metric="levy_collected", day=month).first()
    assert row is not None
    row.value += 50_000
    row.save(update_fields=["value"])

    response = client.get(url)
    html = response.content.decode()
    tampered = response.context["explanation"]
    assert not tampered.agrees
    assert tampered.stored != tampered.recomputed
    assert tampered.recomputed == explanation.recomputed
    assert display.figure_value("percent", tampered.stored) in html
    assert display.figure_value("percent", tampered.recomputed) in html
    assert "Warning: the two values differ." in html
    assert 'role="alert"' in html


def test_dashboard_matches_demo_city(demo_city, signed_in, personas):
    client = signed_in("command_center")
    computed = figures.compute(StoredTallies())

    response = client.get(reverse("command:dashboard"))

    html = response.content.decode()
    assert response.status_code == 200
    check_cards(html, computed)
    freshness = response.context["freshness"]
    assert freshness.folded == projector.position()
    assert freshness.journal_size == journal_size()
    assert f"Figures as of journal entry {projector.position() - 1}" in html
    check_tables(html, response.context)
    check_charts(html)
    assert 'id="command-map"' in html
    assert f'href="{reverse("command:map")}"' in html
    report_form = views_dashboard.report_form_url()
    if report_form is None:
        assert 'class="month-picker"' not in html
    else:
        assert f'<form class="month-picker" action="{report_form}"' in html
    open_alerts = Alert.objects.filter(cleared_at__isnull=True).count()
    assert open_alerts > 0, "the demo flags pickups scanned far from their plate"
    assert html.count('data-testid="alert"') == open_alerts

    summary = client.get(reverse("command:figures"), {"part": "summary"})
    assert cards_of(summary.content.decode()) == cards_of(html)
    wall = client.get(reverse("command:figures"), {"part": "wall"})
    wall_html = wall.content.decode()
    for row in wall.context["wall_rows"]:
        assert f'data-figure-key="{row.key}"' in wall_html
        value = next(f.value for f in computed if f.key == row.key)
        assert row.text == display.figure_value(row.unit, value), row.key
    details = client.get(reverse("command:figures"), {"part": "details"})
    check_charts(details.content.decode())
    check_tables(details.content.decode(), details.context)

    check_api(client, personas["command_center"], computed)
    check_explain(client)
