"""The alert feed and its HTMX fragment: what is listed, linked and marked new."""

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from tests.waste.sensors.conftest import SENSOR_ID, make_container, reading

from kotacerdas.city.models import Area
from kotacerdas.command import alerts
from kotacerdas.journal.models import VerifyRun
from kotacerdas.waste import sensors
from kotacerdas.waste.models import Alert, Site

pytestmark = pytest.mark.django_db
PASAR_BARU = "13.74.02.1006"


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def full_container(city):
    """A TPS container in Pasar Baru whose sensor just read 86 %."""
    site = Site.objects.create(
        code="tps-pasar-baru",
        name="TPS Pasar Baru",
        kind=Site.Kind.TPS,
        kelurahan=Area.objects.get(code=PASAR_BARU),
        lat="-0.465233",
        lng="100.400130",
    )
    container = make_container(site, 1, SENSOR_ID)
    result = sensors.ingest(SENSOR_ID, reading(0.86), "mqtt")
    assert result.alert == "opened"
    return container


def verify_run(ok: bool, minutes_ago: int, problem: str = "") -> VerifyRun:
    finished = timezone.now() - timedelta(minutes=minutes_ago)
    return VerifyRun.objects.create(
        started_at=finished - timedelta(seconds=5),
        finished_at=finished,
        entries_checked=120,
        blocks_checked=3,
        ok=ok,
        first_problem=problem,
    )


def test_threshold_alert_in_feed(personas, full_container):
    items = alerts.feed(personas["command_center"])

    assert len(items) == 1
    item = items[0]
    assert item.kind == "fill_threshold"
    assert item.label == "Container above its threshold"
    assert item.text == "TPS Pasar Baru container 1 is 86.0 % full (threshold 80.0 %)"
    assert item.url == reverse("waste:container_fill_levels")
    assert item.new is False


def test_feed_marks_alerts_after_since(personas, full_container):
    opened = Alert.objects.get().opened_at
    user = personas["command_center"]

    before = alerts.feed(user, since=opened - timedelta(seconds=1))
    after = alerts.feed(user, since=opened + timedelta(seconds=1))

    assert [item.new for item in before] == [True]
    assert [item.new for item in after] == [False]


@pytest.mark.parametrize("text", [None, "", "yesterday", "2026-13-01T00:00:00"])
def test_since_invalid_is_ignored(text):
    assert alerts.parse_since(text) is None


def test_since_without_zone_is_ignored():
    assert alerts.parse_since("2026-12-05T10:00:00") is None
    assert alerts.parse_since("2026-12-05T10:00:00+07:00") is not None


def test_fragment_highlights_new_alerts(signed_in, full_container):
    client = signed_in("command_center")
    since = (Alert.objects.get().opened_at - timedelta(seconds=1)).isoformat()

    response = client.get(reverse("command:alerts"), {"since": since})

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('data-testid="alert"') == 1
    assert "is-new" in html
    assert "TPS Pasar Baru container 1 is 86.0 % full" in html


def test_fragment_polls_with_its_own_time(signed_in, full_container):
    client = signed_in("command_center")
    before = timezone.now()

    response = client.get(reverse("command:alerts"))

    html = response.content.decode()
    assert "is-new" not in html
    assert 'hx-trigger="every 10s"' in html
    assert 'hx-swap="outerHTML"' in html
    polled_at = response.context["polled_at"]
    assert polled_at >= before
    local = timezone.localtime(polled_at).isoformat()
    assert "since=" + quote(local, safe="") in html


def test_report_overdue_links_to_report(personas, city):
    Alert.objects.create(
        kind=Alert.Kind.REPORT_OVERDUE,
        subject="wastereports.report:7",
        details={"report_kind": "missed_pickup", "due": timezone.now().isoformat()},
    )

    item = alerts.feed(personas["command_center"])[0]

    assert item.text == "Report 7 (Missed pickup) is past its SLA"
    assert item.url == reverse("wastereports:detail", kwargs={"report_id": 7})


def test_flagged_pickup_links_to_list(personas, city):
    user = personas["command_center"]
    assert not user.has_perm("waste.review_pickup")
    Alert.objects.create(
        kind=Alert.Kind.PICKUP_FLAGGED, details={"distance_m": 612, "flags": "far"}
    )

    item = alerts.feed(user)[0]

    assert item.text == "Pickup \u2013 was scanned 612 m from its plate"
    list_url = reverse("command:list", kwargs={"name": "pickups"})
    assert item.url == f"{list_url}?review=pending"


def test_failed_verify_listed_until_a_run_passes(personas, city):
    user = personas["auditor"]
    failed = verify_run(False, 10, "entry 17: payload hash differs")

    items = alerts.feed(user)
    assert [item.id for item in items] == [f"verify-{failed.pk}"]
    assert items[0].label == "Ledger verification failed"
    assert items[0].text == "entry 17: payload hash differs"
    assert items[0].url == reverse("journal:status")
    assert alerts.open_count() == 1

    verify_run(True, 1)

    assert alerts.feed(user) == []
    assert alerts.open_count() == 0


def test_cleared_alerts_leave_the_feed(personas, full_container):
    Alert.objects.update(cleared_at=timezone.now())

    assert alerts.feed(personas["command_center"]) == []
    assert alerts.open_count() == 0


def test_feed_newest_first_and_limited(personas, city):
    for number in range(5):
        Alert.objects.create(kind=Alert.Kind.PICKUP_FLAGGED, details={"n": number})
    verify_run(False, 0)

    items = alerts.feed(personas["command_center"], limit=3)

    assert len(items) == 3
    times = [item.at for item in items]
    assert times == sorted(times, reverse=True)
    assert alerts.open_count() == 6


def test_wall_keeps_alerts_new_for_minutes(signed_in, full_container):
    client = signed_in("command_center")
    opened = Alert.objects.get().opened_at

    first = client.get(reverse("command:alerts"), {"view": "wall"})
    since = first.context["polled_at"]
    second = client.get(
        reverse("command:alerts"), {"view": "wall", "since": since.isoformat()}
    )

    # The next poll's `since` lies minutes back, so an alert opened just now
    # is still marked new on the wall's following polls.
    assert since < opened
    assert "is-new" in second.content.decode()
