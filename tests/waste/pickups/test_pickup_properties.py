"""Property tests of pickup validation: weights, coordinates and client ids."""

import uuid
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kotacerdas.waste.models import Pickup
from kotacerdas.waste.pickups import (
    CLIENT_ID,
    MAX_WEIGHT_G,
    PickupConflict,
    PickupInvalid,
    haversine_m,
    record_pickup,
)

from .conftest import pickup_input, signed_text

pytestmark = pytest.mark.django_db

FIXTURE_SHARED = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def unique_id() -> str:
    return str(uuid.uuid4())


@FIXTURE_SHARED
@given(grams=st.integers(min_value=1, max_value=MAX_WEIGHT_G))
def test_weight_kg_stored_as_exact_grams(route, personas, grams):
    kilograms = str(Decimal(grams) / 1000)

    pickup = record_pickup(
        pickup_input(
            signed_text(route.houses[0]), client_id=unique_id(), weight_kg=kilograms
        ),
        personas["collector"],
    ).pickup

    assert pickup.weight_g == grams


@FIXTURE_SHARED
@given(
    weight=st.one_of(
        st.decimals(max_value=0, allow_nan=False, allow_infinity=False, places=3),
        st.decimals(min_value=Decimal("0.0001"), max_value=1, places=4).filter(
            lambda d: (d * 1000) % 1 != 0
        ),
        st.integers(min_value=MAX_WEIGHT_G // 1000 + 1, max_value=10**9),
        st.sampled_from(["abc", "1e", "NaN", "inf", "--1"]),
    )
)
def test_bad_weight_rejected_naming_field(route, personas, weight):
    count = Pickup.objects.count()

    with pytest.raises(PickupInvalid) as caught:
        record_pickup(
            pickup_input(
                signed_text(route.houses[0]),
                client_id=unique_id(),
                weight_kg=str(weight),
            ),
            personas["collector"],
        )

    assert [e.field for e in caught.value.errors] == ["weight_kg"]
    assert Pickup.objects.count() == count


@FIXTURE_SHARED
@given(
    lat=st.decimals(min_value=-90, max_value=90, places=6),
    lng=st.decimals(min_value=-180, max_value=180, places=6),
)
def test_any_valid_position_stored_with_distance(route, personas, lat, lng):
    house = route.houses[0]

    pickup = record_pickup(
        pickup_input(
            signed_text(house), client_id=unique_id(), lat=str(lat), lng=str(lng)
        ),
        personas["collector"],
    ).pickup

    assert (pickup.lat, pickup.lng) == (lat, lng)
    expected = haversine_m(float(lat), float(lng), float(house.lat), float(house.lng))
    assert pickup.distance_m == round(expected)
    assert ("far" in pickup.flags) == (pickup.distance_m > 150)


@FIXTURE_SHARED
@given(
    lat=st.one_of(
        st.decimals(min_value=Decimal("90.000001"), max_value=10**6, places=6),
        st.decimals(max_value=Decimal("-90.000001"), min_value=-(10**6), places=6),
    )
)
def test_latitude_out_of_range_rejected(route, personas, lat):
    with pytest.raises(PickupInvalid) as caught:
        record_pickup(
            pickup_input(
                signed_text(route.houses[0]), client_id=unique_id(), lat=str(lat)
            ),
            personas["collector"],
        )

    assert [e.field for e in caught.value.errors] == ["lat"]


@FIXTURE_SHARED
@given(client_id=st.text(max_size=80))
def test_client_id_accepted_only_in_shape(route, personas, client_id):
    sent = pickup_input(signed_text(route.houses[0]), client_id=client_id)
    valid = CLIENT_ID.fullmatch(client_id.strip()) is not None

    try:
        pickup = record_pickup(sent, personas["collector"]).pickup
    except PickupInvalid as invalid:
        assert not valid
        assert [e.field for e in invalid.errors] == ["client_id"]
    except PickupConflict:
        # Hypothesis sent this id before, with an earlier scan time.
        assert Pickup.objects.filter(client_id=client_id.strip()).exists()
    else:
        assert valid
        assert pickup.client_id == client_id.strip()
