import pytest

from kotacerdas.city.models import Area, NeighbourhoodUnit
from kotacerdas.city.services import InvalidUnitNumber, get_or_create_unit
from kotacerdas.journal.models import Entry

from .conftest import payload_of

pytestmark = pytest.mark.django_db


def unit_entries():
    return Entry.objects.filter(event_type="city.unit.created")


def test_rt_creates_its_rw(pasar_usang):
    unit = get_or_create_unit(pasar_usang, 2, 5)

    assert str(unit) == "RT 005/RW 002"
    assert NeighbourhoodUnit.objects.filter(kelurahan=pasar_usang).count() == 2
    assert NeighbourhoodUnit.objects.filter(rw="002", rt="").exists()
    assert unit_entries().count() == 2


def test_same_unit_is_reused(pasar_usang):
    first = get_or_create_unit(pasar_usang, "3", "1")
    second = get_or_create_unit(pasar_usang, "003", "001")

    assert first.pk == second.pk
    assert unit_entries().count() == 2


def test_unit_event_has_codes_only(pasar_usang):
    unit = get_or_create_unit(pasar_usang, 1)

    payload = payload_of(unit_entries().get())
    assert payload == {
        "unit_id": unit.pk,
        "kelurahan_code": "13.74.02.1002",
        "rw": "001",
        "rt": "",
    }


@pytest.mark.parametrize("rw", ["0", "1000", "a", "-1", ""])
def test_bad_rw_is_rejected(pasar_usang, rw):
    with pytest.raises(InvalidUnitNumber) as raised:
        get_or_create_unit(pasar_usang, rw, 1)

    assert str(raised.value) == (
        f"RW number {rw!r} is invalid; use 1 to 999, such as 3 or 003"
    )
    assert not NeighbourhoodUnit.objects.exists()


def test_unit_under_kecamatan_is_rejected(padang_panjang):
    kecamatan = Area.objects.get(code="13.74.02")

    with pytest.raises(ValueError) as raised:
        get_or_create_unit(kecamatan, 1)

    assert str(raised.value) == (
        "RT/RW units belong to a kelurahan or desa, not to kecamatan 13.74.02"
    )
