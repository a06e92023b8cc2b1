"""The freshness line warns while the rollups are far behind the journal."""

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import override

from kotacerdas.command.panels import CATCHING_UP_ENTRIES, Freshness


def render(freshness: Freshness) -> str:
    with override("en"):
        return render_to_string("command/_freshness.html", {"freshness": freshness})


def test_few_waiting_entries_are_normal():
    fresh = Freshness(100, 100 + CATCHING_UP_ENTRIES, timezone.now())

    html = render(fresh)

    assert not fresh.catching_up
    assert 'data-testid="catching-up"' not in html
    assert f"{CATCHING_UP_ENTRIES} entries are not counted yet" in html


def test_far_behind_says_figures_are_low():
    fresh = Freshness(0, 46_746, timezone.now())

    html = render(fresh)

    assert fresh.catching_up
    assert 'data-testid="catching-up"' in html
    assert "46746 entries to go. Until then they are too low." in html
