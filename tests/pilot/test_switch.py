"""The service switch against a plain model of pilots, areas and dates."""

import datetime

import pytest
from django.db import transaction
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kotacerdas.pilot import switch
from kotacerdas.pilot.models import Pilot, PilotArea, ServiceScope
from kotacerdas.pilot.services import Scope, Service

pytestmark = pytest.mark.django_db

KELURAHAN = ["13.74.02.1002", "13.74.02.1006", "13.74.01.1001"]
UNITS = ["", "001", "002"]
DAY0 = datetime.date(2027, 1, 1)

FIXTURE_SHARED = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

areas = st.tuples(
    st.sampled_from(KELURAHAN), st.sampled_from(UNITS), st.sampled_from(UNITS)
).map(lambda a: (a[0], a[1], a[2] if a[1] else ""))
pilots = st.lists(
    st.tuples(
        st.integers(0, 60),  # start, days after DAY0
        st.integers(0, 40),  # length in days minus one
        st.sets(st.sampled_from(Service.values), min_size=1),
        st.lists(areas, min_size=1, max_size=3, unique=True),
        st.booleans(),  # ended on its tenth day
    ),
    max_size=3,
)
addresses = st.tuples(
    st.sampled_from(KELURAHAN), st.sampled_from(UNITS), st.sampled_from(UNITS)
)


def _covers(area: tuple[str, str, str], address: tuple[str, str, str]) -> bool:
    kelurahan, rw, rt = area
    return (
        kelurahan == address[0]
        and (not rw or rw == address[1])
        and (not rt or rt == address[2])
    )


def _expected(pilot_rows, service, address, on) -> bool:
    for start, length, services, pilot_areas, ended in pilot_rows:
        starts_on = DAY0 + datetime.timedelta(days=start)
        ends_on = starts_on + datetime.timedelta(days=length)
        if ended:
            # It stops on the day it ended, its tenth.
            last_day = min(ends_on, starts_on + datetime.timedelta(days=8))
        else:
            last_day = ends_on
        if service not in services or not starts_on <= on <= last_day:
            continue
        if any(_covers(area, address) for area in pilot_areas):
            return True
    return False


def _store(pilot_rows) -> None:
    for number, (start, length, services, pilot_areas, ended) in enumerate(pilot_rows):
        starts_on = DAY0 + datetime.timedelta(days=start)
        ends_on = starts_on + datetime.timedelta(days=length)
        ended_at = None
        if ended:
            # Ended at noon Jakarta time on its tenth day, as end_pilot records it.
            end_day = starts_on + datetime.timedelta(days=9)
            ends_on = min(ends_on, end_day)
            ended_at = datetime.datetime.combine(
                end_day, datetime.time(5, 0), tzinfo=datetime.UTC
            )
        pilot = Pilot.objects.create(
            slug=f"p{number}",
            name=f"P{number}",
            starts_on=starts_on,
            ends_on=ends_on,
            services=sorted(services),
            ended_at=ended_at,
        )
        for kelurahan, rw, rt in pilot_areas:
            PilotArea.objects.create(
                pilot=pilot, kelurahan_code=kelurahan, rw=rw, rt=rt
            )


@FIXTURE_SHARED
@given(
    pilot_rows=pilots,
    service=st.sampled_from(Service.values),
    address=addresses,
    day=st.integers(-5, 110),
)
def test_switch_matches_model(city, pilot_rows, service, address, day) -> None:
    on = DAY0 + datetime.timedelta(days=day)
    with transaction.atomic():
        _store(pilot_rows)
        ServiceScope.objects.create(service=service, scope=Scope.PILOT_AREAS)
        kelurahan, rw, rt = address

        enabled = switch.is_enabled(
            service, kelurahan_code=kelurahan, rw=rw, rt=rt, on=on
        )
        anywhere = switch.is_enabled_anywhere(service, on=on)
        everywhere_else = switch.is_enabled(
            Service.REGISTRY if service != Service.REGISTRY else Service.WALLET,
            kelurahan_code=kelurahan,
            on=on,
        )
        transaction.set_rollback(True)

    assert enabled == _expected(pilot_rows, service, address, on)
    assert anywhere >= enabled
    assert everywhere_else is True


def test_no_address_is_outside_every_pilot(city) -> None:
    ServiceScope.objects.create(service=Service.WALLET, scope=Scope.PILOT_AREAS)

    assert switch.is_enabled(Service.WALLET, kelurahan_code=None) is False
    assert switch.is_enabled(Service.PICKUPS, kelurahan_code=None) is True


def test_require_names_service_and_area(city) -> None:
    ServiceScope.objects.create(service=Service.PICKUPS, scope=Scope.PILOT_AREAS)

    with translation.override("en"), pytest.raises(switch.ServiceOff) as caught:
        switch.require(
            Service.PICKUPS, kelurahan_code="13.74.02.1002", rw="002", rt="003"
        )

    assert str(caught.value) == (
        "Proven pickups is not available in kelurahan Pasar Usang RT 003/RW 002: "
        "the city runs it only in pilot areas."
    )
