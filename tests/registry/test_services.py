"""The registry's write paths: validation, journal events, moves and plates."""

import json

import pytest
from django.db import connection

from kotacerdas.journal.keys import node_verifier
from kotacerdas.journal.models import Entry
from kotacerdas.journal.services import seal_pending
from kotacerdas.journal.verify import verify_ledger
from kotacerdas.registry import pii
from kotacerdas.registry.models import Building, Member, Plate, Residence
from kotacerdas.registry.services import (
    MemberInput,
    RegistryInvalid,
    add_member,
    change_building,
    change_member,
    clean_building,
    find_household_by_kk,
    find_member_by_nik,
    household_kk,
    member_nik,
    move_household,
    register_building,
    register_household,
    reissue_plate,
    retire_household,
)

from .conftest import CHILD_NIK, HEAD_NIK, KK_NUMBER, building_input, payloads

pytestmark = pytest.mark.django_db


def test_registering_a_house_sets_its_levy_class_from_the_pln_connection(city):
    building = register_building(building_input(pln_va=1300))
    assert building.levy_class == "RT-II"
    assert register_building(building_input(pln_va=450)).levy_class == "RT-I"
    assert register_building(building_input(pln_va=6600)).levy_class == "RT-IV"
    assert (
        register_building(building_input(use="shop", pln_va=2200)).levy_class
        == "NIAGA-I"
    )


def test_registering_journals_the_building_and_its_plate_without_personal_data(
    building,
):
    [registered] = payloads("registry.building.registered")
    [issued] = payloads("registry.plate.issued")
    assert registered["building_id"] == building.pk
    assert registered["kelurahan_code"] == "13.74.02.1002"
    assert (registered["rw"], registered["rt"]) == ("002", "003")
    assert issued["plate_code"] == building.plate_code
    bodies = b"".join(bytes(e.body) for e in Entry.objects.all())
    assert b"Sutan Syahrir" not in bodies
    assert b"100.4002" not in bodies


def test_every_bad_field_is_reported_at_once(city):
    with pytest.raises(RegistryInvalid) as caught:
        register_building(
            building_input(
                kelurahan_code="13.74.03.1001",
                rw="0",
                street_address=" ",
                use="castle",
                lat="-0.46",
                lng="",
                floors="two",
            )
        )
    fields = {error.field for error in caught.value.errors}
    assert fields == {"kelurahan_code", "rw", "street_address", "use", "lng", "floors"}
    assert not Building.objects.exists()
    assert not Entry.objects.filter(event_type__startswith="registry.").exists()


def test_a_kecamatan_code_is_refused_with_the_fix(city):
    with pytest.raises(RegistryInvalid) as caught:
        register_building(building_input(kelurahan_code="13.74.02"))
    assert "kelurahan" in caught.value.errors[0].message


def test_nik_and_kk_are_stored_encrypted_and_found_by_index(household):
    table = Member._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT nik_sealed, nik_index FROM {table}")
        rows = cursor.fetchall()
    for sealed, index in rows:
        assert HEAD_NIK.encode() not in bytes(sealed)
        assert HEAD_NIK not in index
    head = find_member_by_nik(HEAD_NIK)
    assert head is not None and head.full_name == "Siti Rahmah"
    assert head.sex == "F"
    assert head.birth_date.isoformat() == "1995-08-07"
    assert member_nik(head, unmasked=False) == "1374********0001"
    assert member_nik(head, unmasked=True) == HEAD_NIK
    assert find_household_by_kk("1374 0201 0115 0003") == household
    assert household_kk(household, unmasked=False) == "1374********0003"


def test_a_sealed_value_does_not_open_in_another_column(household):
    head = household.members.get(relation="head")
    with pytest.raises(pii.PersonalDataKeyError):
        pii.open_sealed(head.nik_sealed, "household.kk")


def test_a_household_needs_exactly_one_head(building):
    with pytest.raises(RegistryInvalid) as caught:
        register_household(
            building, KK_NUMBER, [MemberInput("Rizky Pratama", CHILD_NIK, "child")]
        )
    assert [e.field for e in caught.value.errors] == ["members"]


def test_a_registered_nik_or_kk_is_refused_the_second_time(household, city):
    other = register_building(building_input(street_address="Jl. Lain No. 1"))
    with pytest.raises(RegistryInvalid) as caught:
        register_household(other, KK_NUMBER, [MemberInput("Ani", HEAD_NIK, "head")])
    assert {e.field for e in caught.value.errors} == {"kk_number", "members.0.nik"}


def test_an_unknown_regency_code_warns_but_is_kept(building):
    household = register_household(
        building, "1399010101200001", [MemberInput("Budi", "1399011203800001", "head")]
    )
    assert household.members.count() == 1


def test_moving_a_household_keeps_its_history(household, city):
    new_home = register_building(building_input(street_address="Jl. Baru No. 3"))
    move_household(household, new_home)
    history = list(Residence.objects.filter(household=household).order_by("moved_in"))
    assert [r.building_id for r in history] == [household.building_id, new_home.pk]
    assert history[0].moved_out is not None and history[1].moved_out is None
    [moved] = payloads("registry.household.moved")
    assert moved["from_building_id"] == history[0].building_id
    assert moved["building_id"] == new_home.pk


def test_a_demolished_building_must_be_emptied_first_and_loses_its_plate(household):
    building = household.building
    with pytest.raises(RegistryInvalid):
        change_building(building, {"status": "demolished"})
    retire_household(household)
    change_building(building, {"status": "demolished"})
    assert (
        not Plate.objects.filter(building=building).exclude(status="revoked").exists()
    )
    assert payloads("registry.plate.revoked")[0]["reason"] == "demolished"


def test_changing_the_connection_changes_the_levy_class_and_journals_the_fields(
    building,
):
    change_building(building, {"pln_va": 450})
    building.refresh_from_db()
    assert building.levy_class == "RT-I"
    [changed] = payloads("registry.building.changed")
    assert changed["changed_fields"] == ["levy_class", "pln_va"]


def test_an_unchanged_save_journals_nothing(building):
    change_building(building, {"pln_va": 1300, "rw": "002"})
    assert payloads("registry.building.changed") == []


def test_reissuing_a_plate_revokes_the_old_code(building):
    old_code = building.plate_code
    plate = reissue_plate(building, "damaged")
    building.refresh_from_db()
    assert building.plate_code == plate.code != old_code
    assert Plate.objects.get(code=old_code).status == "revoked"


def test_member_changes_and_additions_are_journalled(household):
    head = household.members.get(relation="head")
    change_member(head, {"phone": "08111111111"})
    add_member(household, MemberInput("Nur Aini", "1374026001200003", "child"))
    assert payloads("registry.member.changed")[0]["changed_fields"] == ["phone"]
    assert len(payloads("registry.member.added")) == 3
    with pytest.raises(RegistryInvalid):
        add_member(household, MemberInput("Dua Kepala", "1374020101900005", "head"))


def test_ledger_verify_passes_and_then_catches_a_table_edit(household):

    seal_pending()
    assert verify_ledger(node_verifier()).ok
    Building.objects.filter(pk=household.building_id).update(pln_va=6600)
    result = verify_ledger(node_verifier())
    assert not result.ok
    assert any(
        "building" in problem and "pln_va" in problem for problem in result.problems
    )


def test_verify_catches_a_changed_address(building):

    seal_pending()
    Building.objects.filter(pk=building.pk).update(street_address="Jl. Palsu 9")
    result = verify_ledger(node_verifier())
    assert any("details_hash" in problem for problem in result.problems)


def test_journal_bodies_hold_no_identity_numbers(household):
    for entry in Entry.objects.all():
        body = json.loads(bytes(entry.body))
        text = json.dumps(body)
        assert HEAD_NIK not in text and KK_NUMBER not in text


def test_plate_codes_start_with_the_city_prefix(building):
    assert building.plate_code.startswith("PPJ-B-")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("1300", 1300), ("1.300", 1300), ("1,300", 1300), (1300.0, 1300)],
)
def test_whole_numbers_accept_thousands_separators(city, typed, expected):
    assert clean_building(building_input(pln_va=typed)).pln_va == expected


@pytest.mark.parametrize("typed", ["12.5", "12,5", "1.30", "seribu"])
def test_a_fraction_is_not_a_whole_number(city, typed):
    with pytest.raises(RegistryInvalid) as caught:
        clean_building(building_input(floor_area_m2=typed))
    assert [e.field for e in caught.value.errors] == ["floor_area_m2"]


def test_a_point_outside_the_city_is_refused(city):
    with pytest.raises(RegistryInvalid) as caught:
        clean_building(building_input(lat="5", lng="100.4"))
    [error] = caught.value.errors
    assert error.field == "lat"
    assert "outside Kota Padang Panjang" in error.message


def test_a_point_in_another_kelurahan_warns(city):
    # Inside Kampung Manggis, registered as Pasar Usang.
    clean = clean_building(building_input(lat="-0.4780", lng="100.3824"))
    assert [w.field for w in clean.warnings] == ["lat"]
    assert "Pasar Usang" in clean.warnings[0].message


def test_a_point_in_its_own_kelurahan_has_no_warning(city):
    assert clean_building(building_input()).warnings == []


def test_relation_error_lists_labels_not_codes(building):
    with pytest.raises(RegistryInvalid) as caught:
        register_household(building, KK_NUMBER, [MemberInput("Ani", HEAD_NIK, "boss")])
    message = next(
        e.message for e in caught.value.errors if e.field.endswith("relation")
    )
    assert "Head of household" in message
    assert "child_in_law" not in message
