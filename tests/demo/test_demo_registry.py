"""Building the small demo city into the registry: journalled, verifiable, seeded."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation
from shapely.geometry import Point, shape

from kotacerdas.accounts.services import create_user
from kotacerdas.demo import services as demo
from kotacerdas.demo.generator import DemoError, generate_city, plan_city
from kotacerdas.journal import services as journal
from kotacerdas.journal.keys import node_verifier
from kotacerdas.journal.models import Entry
from kotacerdas.journal.verify import verify_ledger
from kotacerdas.registry import pii
from kotacerdas.registry.codes import clean_kk, clean_nik
from kotacerdas.registry.models import Building, Household, Member
from kotacerdas.registry.services import RegistryInvalid, link_member_user

pytestmark = pytest.mark.django_db
SEED = 21


@pytest.fixture
def citizen(city):
    return create_user(demo.CITIZEN_USERNAME, "citizen-password-1", ["citizen"])


@pytest.fixture
def summary(city, citizen):
    return demo.build_demo_registry("small", SEED)


def test_small_demo_counts_match_summary(summary):
    assert Building.objects.count() == summary.buildings
    assert Household.objects.count() == summary.households
    assert Member.objects.count() == summary.people
    assert summary.people == summary.target_people
    assert 400 <= summary.people <= 420
    assert 3.2 <= summary.people / summary.households <= 4.2


def test_small_demo_is_journalled(summary):
    counts = {
        event_type: Entry.objects.filter(event_type=event_type).count()
        for event_type in (
            "registry.building.registered",
            "registry.plate.issued",
            "registry.household.registered",
            "registry.member.added",
        )
    }

    assert counts == {
        "registry.building.registered": summary.buildings,
        "registry.plate.issued": summary.buildings,
        "registry.household.registered": summary.households,
        "registry.member.added": summary.people,
    }


def test_ledger_verifies_after_small_demo(summary):
    while journal.seal_pending() is not None:
        pass

    result = verify_ledger(node_verifier())

    assert result.problems == []
    assert result.entries_checked == Entry.objects.count()


def test_stored_niks_unique_and_valid(summary):
    niks = [pii.open_sealed(m.nik_sealed, "member.nik") for m in Member.objects.all()]
    kks = [
        pii.open_sealed(h.kk_sealed, "household.kk") for h in Household.objects.all()
    ]

    assert len(set(niks)) == len(niks)
    assert len(set(kks)) == len(kks)
    for nik in niks:
        assert nik[:6] in ("137401", "137402")
        assert clean_nik(nik).region_known
    for kk in kks:
        assert clean_kk(kk)[:6] in ("137401", "137402")


def test_every_household_has_one_head(summary):
    for household in Household.objects.prefetch_related("members"):
        relations = [member.relation for member in household.members.all()]
        assert relations.count("head") == 1, household.pk


def test_stored_buildings_inside_their_kelurahan(summary):
    buildings = Building.objects.select_related("kelurahan")

    for building in buildings:
        polygon = shape(building.kelurahan.boundary)
        assert polygon.contains(Point(float(building.lng), float(building.lat))), (
            building.plate_code
        )
    assert buildings.values("kelurahan").distinct().count() == 16


def test_same_seed_stores_generated_city(summary):
    generated = [
        (
            item.building.street_address,
            item.building.kelurahan.code,
            item.building.lat,
            item.building.lng,
            item.building.use,
            item.building.pln_va,
            sorted(m.full_name for h in item.households for m in h.members),
        )
        for item in generate_city(plan_city("small"), SEED)
    ]

    stored = [
        (
            building.street_address,
            building.kelurahan.code,
            building.lat,
            building.lng,
            building.use,
            building.pln_va,
            sorted(
                Member.objects.filter(household__building=building).values_list(
                    "full_name", flat=True
                )
            ),
        )
        for building in Building.objects.select_related("kelurahan").order_by("id")
    ]

    assert stored == generated


def test_levy_class_follows_pln_connection(summary):
    houses = Building.objects.filter(use="house")

    assert houses.filter(pln_va__lte=899).exclude(levy_class="RT-I").count() == 0
    assert houses.filter(pln_va=1300).exclude(levy_class="RT-II").count() == 0
    assert not Building.objects.filter(levy_class="").exists()


def test_citizen_linked_in_ganting(summary, citizen):
    member = Member.objects.get(user=citizen)

    assert member.household.building.kelurahan.code == demo.CITIZEN_KELURAHAN_CODE
    assert member.sex == "F"
    assert member.relation in ("head", "spouse")


def test_second_build_is_refused(summary):
    with pytest.raises(DemoError, match=r"already contains \d+ buildings"):
        demo.build_demo_registry("small", SEED)

    assert Building.objects.count() == summary.buildings


def test_linking_taken_account_is_refused(summary, citizen):
    other = Member.objects.exclude(user=citizen).first()

    with translation.override("en"), pytest.raises(RegistryInvalid) as raised:
        link_member_user(other, citizen)

    assert raised.value.errors[0].field == "user"
    assert "already linked" in raised.value.errors[0].message
    assert Member.objects.get(pk=other.pk).user is None


def test_demo_size_read_from_setting(settings):
    settings.KOTACERDAS_DEMO_SIZE = "small"
    assert demo.configured_size() == "small"

    settings.KOTACERDAS_DEMO_SIZE = "tiny"
    with pytest.raises(DemoError, match="KOTACERDAS_DEMO_SIZE='tiny' is invalid"):
        demo.configured_size()


def test_demo_command_builds_then_refuses(city):
    output = io.StringIO()

    call_command("demo", "--size", "small", stdout=output)

    assert "Built " in output.getvalue()
    assert " of " in output.getvalue()  # progress lines
    assert Member.objects.filter(user__username="citizen").exists()
    with pytest.raises(CommandError, match="already contains buildings"):
        call_command("demo", "--size", "small", stdout=io.StringIO())
