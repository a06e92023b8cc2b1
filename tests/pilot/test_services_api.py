"""Creating, changing, growing and ending pilots, and setting scopes."""

import datetime

import pytest
from django.utils import timezone, translation

from kotacerdas.journal.keys import node_verifier
from kotacerdas.journal.models import Entry
from kotacerdas.journal.verify import verify_ledger
from kotacerdas.pilot import services_api as api
from kotacerdas.pilot.models import Pilot, ServiceScope
from kotacerdas.pilot.services import Scope, Service

PASAR_USANG = "13.74.02.1002"
BUKIT_SURUNGAN = "13.74.02.1001"

pytestmark = pytest.mark.django_db


def _input(**changes: object) -> api.PilotInput:
    today = timezone.localdate()
    values: dict[str, object] = {
        "slug": "pilot-one",
        "name": "Pilot one",
        "starts_on": today,
        "ends_on": today + datetime.timedelta(days=30),
        "services": [Service.WALLET, Service.PICKUPS],
        "areas": [PASAR_USANG, f"{BUKIT_SURUNGAN}/3"],
    }
    values.update(changes)
    return api.PilotInput(**values)  # type: ignore[arg-type]


def _events(event_type: str) -> list[Entry]:
    return list(Entry.objects.filter(event_type=event_type).order_by("seq"))


def test_create_pilot_journals_areas(city) -> None:
    pilot = api.create_pilot(_input())

    keys = sorted(api.area_key(area) for area in pilot.areas.all())
    assert keys == [f"{BUKIT_SURUNGAN}/003/", f"{PASAR_USANG}//"]
    assert pilot.services == ["wallet", "pickups"]
    assert len(_events("pilot.pilot.created")) == 1


def test_create_pilot_names_every_bad_field(city) -> None:
    with translation.override("en"), pytest.raises(api.PilotInvalid) as caught:
        api.create_pilot(
            _input(
                slug="Bad slug",
                name=" ",
                starts_on="2027-02-30",
                services=["teleport"],
                areas=["13.74.99.9999", f"{PASAR_USANG}//4", f"{PASAR_USANG}/1000"],
            )
        )

    messages = {(e.field, e.message) for e in caught.value.errors}
    fields = {field for field, _message in messages}
    assert fields == {"slug", "name", "starts_on", "services", "areas", "rt", "rw"}
    assert ("starts_on", "Enter a date as YYYY-MM-DD.") in messages
    assert any("13.74.99.9999" in message for _field, message in messages)
    assert any("teleport" in message for _field, message in messages)
    assert Pilot.objects.count() == 0


def test_create_pilot_rejects_end_before_start(city) -> None:
    today = timezone.localdate()
    with translation.override("en"), pytest.raises(api.PilotInvalid) as caught:
        api.create_pilot(_input(ends_on=today - datetime.timedelta(days=1)))

    assert caught.value.errors[0].field == "ends_on"
    assert "on or after the start date" in caught.value.errors[0].message


def test_overlapping_pilot_is_rejected(city) -> None:
    api.create_pilot(_input())

    with translation.override("en"), pytest.raises(api.PilotInvalid) as caught:
        api.create_pilot(_input(slug="pilot-two", areas=[f"{PASAR_USANG}/2/1"]))

    assert "overlaps pilot pilot-one" in caught.value.errors[0].message


def test_overlap_reported_with_other_errors(city) -> None:
    api.create_pilot(_input())

    with translation.override("en"), pytest.raises(api.PilotInvalid) as caught:
        api.create_pilot(_input(slug="pilot-one", name=" ", services=["teleport"]))

    messages = {error.field: error.message for error in caught.value.errors}
    assert set(messages) == {"slug", "name", "services", "areas"}
    assert "already has this slug" in messages["slug"]
    assert "overlaps pilot pilot-one" in messages["areas"]


def test_other_rw_does_not_overlap(city) -> None:
    api.create_pilot(_input())

    other = api.create_pilot(_input(slug="pilot-two", areas=[f"{BUKIT_SURUNGAN}/4"]))

    assert other.pk


def test_end_pilot_keeps_pilot_and_areas(city) -> None:
    pilot = api.create_pilot(_input())

    ended = api.end_pilot(pilot)

    assert ended.ended_at is not None
    assert ended.ends_on == timezone.localdate()
    assert ended.areas.count() == 2
    assert len(_events("pilot.pilot.ended")) == 1
    with pytest.raises(api.PilotInvalid):
        api.end_pilot(ended)
    with pytest.raises(api.PilotInvalid):
        api.grow_pilot(ended, ["13.74.01.1002"])


def test_grow_pilot_adds_areas_only(city) -> None:
    pilot = api.create_pilot(_input())

    api.grow_pilot(pilot, ["13.74.01.1002", PASAR_USANG])

    assert pilot.areas.count() == 3
    event = _events("pilot.pilot.grown")[0]
    assert b"13.74.01.1002//" in bytes(event.body)


def test_set_scope_journals_changes_only(city) -> None:
    api.set_scope(Service.WALLET, Scope.PILOT_AREAS)
    api.set_scope(Service.WALLET, Scope.PILOT_AREAS)

    assert ServiceScope.objects.get(service="wallet").scope == "pilot_areas"
    assert len(_events("pilot.scope.changed")) == 1


def test_ledger_clean_after_pilot_changes(city) -> None:
    pilot = api.create_pilot(_input())
    api.grow_pilot(pilot, ["13.74.01.1002"])
    api.change_pilot(pilot, _input(name="Renamed", services=[Service.SENSORS]))
    api.end_pilot(pilot)
    api.set_scope(Service.SENSORS, Scope.PILOT_AREAS)

    assert verify_ledger(node_verifier()).problems == []


def test_ledger_finds_pilot_changed_outside_services(city) -> None:
    pilot = api.create_pilot(_input())
    Pilot.objects.filter(pk=pilot.pk).update(services=["sensors"])

    problems = verify_ledger(node_verifier()).problems

    assert problems == [f"pilot: pilot {pilot.pk}: table differs from its events"]


def test_ledger_finds_scope_changed_outside_services(city) -> None:
    api.set_scope(Service.WALLET, Scope.PILOT_AREAS)
    ServiceScope.objects.filter(service="wallet").update(scope="everywhere")

    problems = verify_ledger(node_verifier()).problems

    assert problems == ["pilot: scope of wallet: table differs from its events"]
