"""Levy classes from the city profile (Perda Kota Padang Panjang 1/2024)."""

import pytest

from kotacerdas.registry.levy import levy_class_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("use", "va", "code", "monthly"),
    [
        ("house", 450, "RT-I", 5000),
        ("house", 900, "RT-II", 7500),
        ("house", 1300, "RT-II", 7500),
        ("house", 2200, "RT-II", 7500),
        ("house", 3500, "RT-III", 9000),
        ("house", 5500, "RT-III", 9000),
        ("house", 6600, "RT-IV", 22000),
        ("house", 23000, "RT-IV", 22000),
        ("shop_house", 1300, "NIAGA-I", 40000),
        ("shop", 4400, "NIAGA-II", 70000),
        ("market_stall", 7700, "NIAGA-III", 100000),
        ("worship", 900, "SOSIAL", None),
    ],
)
def test_class_follows_use_and_pln_connection(city, use, va, code, monthly):
    levy = levy_class_for(use, va, city)
    assert levy is not None
    assert (levy.code, levy.monthly) == (code, monthly)


def test_a_house_without_a_known_connection_gets_no_class_until_surveyed(city):
    assert levy_class_for("house", None, city) is None
    assert levy_class_for("shop", None, city) is None


def test_a_class_with_no_connection_range_takes_buildings_without_one(city):
    levy = levy_class_for("school", None, city)
    assert levy is not None and levy.code == "SOSIAL"
