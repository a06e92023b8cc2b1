"""Schedules: weekdays, shift hours, RT/RW units and overlap refusal."""

import json
from datetime import date, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.waste.places.conftest import GANTING, PASAR_USANG

from kotacerdas.city.models import Area
from kotacerdas.city.services import get_or_create_unit
from kotacerdas.journal.models import Entry
from kotacerdas.waste import places_crews
from kotacerdas.waste.models import Schedule
from kotacerdas.waste.places import PlacesInvalid
from kotacerdas.waste.places_crews import ScheduleInput, save_schedule, schedules_on

pytestmark = pytest.mark.django_db


def schedule_input(crew, **changes) -> ScheduleInput:
    values = {
        "kelurahan_code": PASAR_USANG,
        "weekdays": "135",
        "shift_start": "06:00",
        "shift_end": "10:00",
        "crew_id": crew.pk,
        "valid_from": "2026-01-01",
    }
    values.update(changes)
    return ScheduleInput(**values)


def errors_of(raised) -> dict[str, str]:
    return {error.field: error.message for error in raised.value.errors}


def test_schedule_saved_and_journalled(crew):
    schedule = save_schedule(schedule_input(crew, weekdays=[5, 1, 3, 3]))
    assert schedule.weekdays == "135"
    assert schedule.shift_start == time(6, 0)
    entry = Entry.objects.filter(event_type="waste.schedule.saved").get()
    payload = json.loads(bytes(entry.body))["payload"]
    assert payload["schedule_id"] == schedule.pk
    assert payload["weekdays"] == "135"
    assert payload["shift_end"] == "10:00"
    assert payload["unit_id"] is None


def test_shift_end_after_start(crew):
    with pytest.raises(PlacesInvalid) as raised:
        save_schedule(schedule_input(crew, shift_start="10:00", shift_end="09:59"))
    assert errors_of(raised) == {
        "shift_end": "The shift must end after it starts, on the same day."
    }


def test_schedule_lists_every_bad_field(crew):
    with pytest.raises(PlacesInvalid) as raised:
        save_schedule(
            schedule_input(
                crew,
                kelurahan_code="99",
                weekdays="18",
                shift_start="6 am",
                service="boat",
                crew_id="x",
                valid_to="tomorrow",
            )
        )
    errors = errors_of(raised)
    assert set(errors) == {
        "kelurahan_code",
        "weekdays",
        "shift_start",
        "service",
        "crew_id",
        "valid_to",
    }
    assert "1 (Monday) to 7 (Sunday)" in errors["weekdays"]


def test_empty_weekdays_rejected(crew):
    with pytest.raises(PlacesInvalid) as raised:
        save_schedule(schedule_input(crew, weekdays=""))
    assert errors_of(raised)["weekdays"] == "Choose at least one weekday."


def test_unit_must_belong_to_kelurahan(crew):
    ganting = Area.objects.get(code=GANTING)
    get_or_create_unit(ganting, "7", "4")
    with pytest.raises(PlacesInvalid) as raised:
        save_schedule(schedule_input(crew, rw="7", rt="4"))
    message = errors_of(raised)["rt"]
    assert "Kelurahan Pasar Usang has no RW 007 / RT 004" in message


def test_schedule_for_one_rt(crew):
    area = Area.objects.get(code=PASAR_USANG)
    unit = get_or_create_unit(area, "2", "3")
    schedule = save_schedule(schedule_input(crew, rw="002", rt=3))
    assert schedule.unit == unit


def test_overlapping_schedule_rejected(crew):
    save_schedule(schedule_input(crew, weekdays="135"))
    with pytest.raises(PlacesInvalid) as raised:
        save_schedule(
            schedule_input(
                crew,
                kelurahan_code=GANTING,
                weekdays="35",
                shift_start="09:30",
                shift_end="12:00",
            )
        )
    message = errors_of(raised)["shift_start"]
    assert "Crew Tim Uji already works 06:00-10:00 on Wednesday" in message
    assert "Pasar Usang" in message


def test_adjacent_shifts_allowed(crew):
    save_schedule(schedule_input(crew, weekdays="135"))
    later = save_schedule(
        schedule_input(
            crew, kelurahan_code=GANTING, shift_start="10:00", shift_end="12:00"
        )
    )
    assert later.pk is not None


def test_other_days_allowed(crew):
    save_schedule(schedule_input(crew, weekdays="135"))
    other = save_schedule(schedule_input(crew, kelurahan_code=GANTING, weekdays="246"))
    assert other.weekdays == "246"


def test_expired_schedule_does_not_clash(crew):
    save_schedule(schedule_input(crew, valid_from="2025-01-01", valid_to="2025-12-31"))
    current = save_schedule(schedule_input(crew, valid_from="2026-01-01"))
    assert current.valid_to is None


def test_editing_schedule_does_not_clash_with_itself(crew):
    schedule = save_schedule(schedule_input(crew))
    changed = save_schedule(schedule_input(crew, shift_end="11:00"), schedule)
    assert changed.pk == schedule.pk
    assert changed.shift_end == time(11, 0)


def test_inactive_crew_rejected(crew):
    places_crews.save_crew(
        places_crews.CrewInput(
            name=crew.name, vehicle_id=crew.vehicle_id, active=False
        ),
        crew,
    )
    with pytest.raises(PlacesInvalid) as raised:
        save_schedule(schedule_input(crew))
    assert "active crew" in errors_of(raised)["crew_id"]


def test_schedules_on_weekday_and_validity(crew):
    monday = date(2026, 3, 2)
    save_schedule(schedule_input(crew, weekdays="1", valid_from=monday.isoformat()))
    assert schedules_on(monday).count() == 1
    assert schedules_on(monday + timedelta(days=1)).count() == 0
    assert schedules_on(monday - timedelta(days=7)).count() == 0


shift = st.tuples(st.integers(0, 22), st.integers(1, 4)).map(
    lambda pair: (time(pair[0]), time(min(pair[0] + pair[1], 23), 59))
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    first=shift,
    second=shift,
    days_a=st.sets(st.integers(1, 7), min_size=1),
    days_b=st.sets(st.integers(1, 7), min_size=1),
)
def test_overlap_matches_interval_rule(crew, first, second, days_a, days_b):
    # Hypothesis reuses the fixture's crew across examples, so each example
    # starts without the schedules of the one before.
    Schedule.objects.all().delete()
    save_schedule(
        schedule_input(
            crew, weekdays=sorted(days_a), shift_start=first[0], shift_end=first[1]
        )
    )
    clash = bool(days_a & days_b) and first[0] < second[1] and second[0] < first[1]
    data = schedule_input(
        crew,
        kelurahan_code=GANTING,
        weekdays=sorted(days_b),
        shift_start=second[0],
        shift_end=second[1],
    )
    if clash:
        with pytest.raises(PlacesInvalid):
            save_schedule(data)
    else:
        assert save_schedule(data).pk is not None
