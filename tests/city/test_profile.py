import shutil
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from kotacerdas.city.models import Area, City
from kotacerdas.city.profiles import BUILT_IN_DIR, ProfileError
from kotacerdas.city.services import find_area, load_profile
from kotacerdas.journal.models import Entry

from .conftest import payload_of

pytestmark = pytest.mark.django_db


def profile_entries():
    return Entry.objects.filter(event_type="city.profile.loaded")


def test_load_creates_city_and_areas():
    result = load_profile("padang-panjang")

    city = City.objects.get()
    assert result.changed
    assert city.name == "Kota Padang Panjang"
    assert city.code == "13.74"
    assert city.center_lat == Decimal("-0.472500")
    assert city.boundary["type"] == "Polygon"
    assert city.settings["plate_prefix"] == "PPJ"
    assert city.settings["limits"]["emoney"]["registered"] == {
        "balance_max": 20_000_000,
        "monthly_in_max": 40_000_000,
    }
    assert city.settings["limits"]["emoney"]["unregistered"]["balance_max"] == 2_000_000
    assert city.settings["wallet"]["mode"] == "emoney"
    household_classes = [
        (row["code"], row["monthly"])
        for row in city.settings["tariffs"]["levy_classes"]
        if row["uses"] == ["house"]
    ]
    assert household_classes == [
        ("RT-I", 5000),
        ("RT-II", 7500),
        ("RT-III", 9000),
        ("RT-IV", 22000),
    ]
    assert Area.objects.filter(level="kecamatan").count() == 2
    assert Area.objects.filter(level="kelurahan").count() == 16


def test_loaded_kelurahan_has_profile_fields():
    load_profile("padang-panjang")

    pasar_baru = Area.objects.get(code="13.74.02.1006")
    assert pasar_baru.name == "Pasar Baru"
    assert pasar_baru.compact_code == "1374021006"
    assert pasar_baru.parent.code == "13.74.02"
    assert pasar_baru.postal_code == "27113"
    assert pasar_baru.population == 1739
    assert pasar_baru.area_ha == 23
    assert pasar_baru.boundary["type"] == "Polygon"


def test_every_area_has_boundary_and_postal_code():
    load_profile("padang-panjang")

    for area in Area.objects.all():
        assert area.boundary is not None, area.code
        if area.level == "kelurahan":
            assert len(area.postal_code) == 5, area.code


def test_load_journals_profile_once():
    load_profile("padang-panjang")
    second = load_profile("padang-panjang")

    assert not second.changed
    assert second.area_count == 18
    assert profile_entries().count() == 1
    payload = payload_of(profile_entries().get())
    assert payload["city_code"] == "13.74"
    assert "13.74.02.1002" in payload["area_codes"]


def test_changed_profile_file_reloads(tmp_path):
    directory = tmp_path / "padang-panjang"
    shutil.copytree(BUILT_IN_DIR / "padang-panjang", directory)
    load_profile(directory)
    csv_path = directory / "wilayah.csv"
    csv_path.write_text(
        csv_path.read_text(encoding="utf-8").replace(",Pasar Baru,", ",Pasar Baharu,"),
        encoding="utf-8",
    )

    result = load_profile(directory)

    assert result.changed
    assert Area.objects.get(code="13.74.02.1006").name == "Pasar Baharu"
    assert profile_entries().count() == 2
    assert City.objects.count() == 1


def test_find_area_accepts_compact_code():
    load_profile("padang-panjang")

    assert find_area("1374021002").name == "Pasar Usang"
    assert find_area("13.74.02.1002").name == "Pasar Usang"


def test_unknown_profile_is_rejected(tmp_path):
    with pytest.raises(ProfileError) as raised:
        load_profile(tmp_path / "nowhere")

    assert "is neither a built-in profile (padang-panjang)" in str(raised.value)
    assert City.objects.count() == 0


def test_bad_csv_row_names_line(tmp_path):
    directory = tmp_path / "broken"
    shutil.copytree(BUILT_IN_DIR / "padang-panjang", directory)
    csv_path = directory / "wilayah.csv"
    csv_path.write_text(
        csv_path.read_text(encoding="utf-8").replace("1374021006,", "1374021099,"),
        encoding="utf-8",
    )

    with pytest.raises(ProfileError) as raised:
        load_profile(directory)

    assert "line 18" in str(raised.value)
    assert "compact code '1374021099' does not match code '13.74.02.1006'" in str(
        raised.value
    )
    assert City.objects.count() == 0


def test_command_loads_and_reports(capsys):
    call_command("city", "load", "padang-panjang")
    call_command("city", "load", "padang-panjang")

    output = capsys.readouterr().out.splitlines()
    assert output == [
        "Loaded Kota Padang Panjang (13.74) with 18 areas.",
        "Kota Padang Panjang (13.74) is already loaded from these files; "
        "nothing changed.",
    ]


def test_command_reports_unknown_profile():
    with pytest.raises(CommandError) as raised:
        call_command("city", "load", "bukittinggi")

    assert str(raised.value).startswith("city profile 'bukittinggi' not found")
