"""The registry's staff pages: list, building, forms, map and the home counts.

Pages are read in English (the language switch's cookie), so the assertions
keep working when the Indonesian catalogue gains these messages.
"""

import json
import re

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

from kotacerdas.journal.models import Entry
from kotacerdas.registry import queries
from kotacerdas.registry.codes import new_plate_code
from kotacerdas.registry.levy import plate_prefix
from kotacerdas.registry.models import Building, Household, Member, Plate
from kotacerdas.registry.services import (
    register_building,
    reissue_plate,
    revoke_plate,
)

from .conftest import CHILD_NIK, HEAD_NIK, KK_NUMBER, building_input

pytestmark = pytest.mark.django_db

GANTING = "13.74.01.1001"
PASAR_USANG = "13.74.02.1002"
NEW_HEAD_NIK = "1374025203800004"  # synthetic: female, 12 Mar 1980
NEW_KK = "1374021203200005"


@pytest.fixture
def english(signed_in):
    """Return a function giving a signed-in client that reads pages in English."""

    def sign_in(persona: str) -> Client:
        client = signed_in(persona)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return sign_in


@pytest.fixture
def officer(english) -> Client:
    return english("registry_officer")


@pytest.fixture
def elsewhere(city) -> Building:
    """A building in Ganting, outside the officer's kelurahan."""
    return register_building(
        building_input(kelurahan_code=GANTING, street_address="Jl. Ganting No. 3")
    )


def text(response) -> str:
    return response.content.decode()


def detail_url(building: Building) -> str:
    return reverse("registry:building_detail", kwargs={"building_id": building.pk})


# The list ---------------------------------------------------------------------------


def test_list_shows_own_kelurahan_only(officer, building, elsewhere):
    page = text(officer.get(reverse("registry:building_list")))

    assert building.plate_code in page
    assert elsewhere.plate_code not in page
    assert "Buildings of Kelurahan Pasar Usang" in page


def test_city_wide_role_sees_all(english, building, elsewhere):
    page = text(english("revenue_officer").get(reverse("registry:building_list")))

    assert building.plate_code in page
    assert elsewhere.plate_code in page


@pytest.mark.parametrize(
    ("params", "found"),
    [
        ({"q": "sutan syahrir"}, True),
        ({"q": "Jl. Nowhere"}, False),
        ({"use": "house"}, True),
        ({"use": "shop"}, False),
        ({"rw": "2", "rt": "3"}, True),
        ({"rw": "002", "rt": "004"}, False),
        ({"levy_class": "RT-II"}, True),
        ({"levy_class": "RT-I"}, False),
        ({"levy_class": "none"}, False),
        ({"plate_status": "issued"}, True),
        ({"plate_status": "installed"}, False),
        ({"plate_status": "revoked"}, False),
        ({"status": "active"}, True),
        ({"status": "empty"}, False),
        ({"kelurahan": PASAR_USANG}, True),
    ],
)
def test_list_filters(english, building, params, found):
    page = text(
        english("revenue_officer").get(reverse("registry:building_list"), params)
    )

    assert (building.plate_code in page) is found


def test_search_by_plate_code(officer, building):
    compact = building.plate_code.replace("-", "").lower()

    by_display = text(
        officer.get(reverse("registry:building_list"), {"q": building.plate_code})
    )
    by_typed = text(officer.get(reverse("registry:building_list"), {"q": compact}))

    assert building.plate_code in by_display
    assert building.plate_code in by_typed


def test_search_finds_revoked_plate(officer, building):
    old_code = building.plate_code
    reissue_plate(building, "damaged")
    building.refresh_from_db()

    page = text(officer.get(reverse("registry:building_list"), {"q": old_code}))

    assert building.plate_code in page


def test_revoked_filter_finds_unreplaced_plate(english, building, city):
    other = register_building(building_input(street_address="Jl. Lain No. 1"))
    plate = Plate.objects.get(building=other)
    revoke_plate(plate, "lost")
    page = text(
        english("revenue_officer").get(
            reverse("registry:building_list"), {"plate_status": "revoked"}
        )
    )

    assert other.plate_code in page
    assert building.plate_code not in page


def test_officer_cannot_filter_other_kelurahan(officer, elsewhere):
    response = officer.get(reverse("registry:building_list"), {"kelurahan": GANTING})

    assert elsewhere.plate_code not in text(response)
    assert "Select a valid choice" in text(response)


def test_bad_unit_filter_names_field(officer, building):
    page = text(officer.get(reverse("registry:building_list"), {"rw": "abc"}))

    assert "Enter the RW as a number from 1 to 999" in page
    assert building.plate_code in page


def test_page_size_is_capped(english, city):
    for number in range(3):
        register_building(building_input(street_address=f"Jl. Baru No. {number}"))

    small = text(
        english("revenue_officer").get(
            reverse("registry:building_list"), {"per_page": 2}
        )
    )
    huge = english("revenue_officer").get(
        reverse("registry:building_list"), {"per_page": 100000}
    )

    assert "Page 1 of 2" in small
    assert small.count('data-building="') == 2
    assert huge.context["page"].paginator.per_page == 100


def test_htmx_gets_results_only(officer, building):
    response = officer.get(
        reverse("registry:building_list"), {"q": "Sutan"}, HTTP_HX_REQUEST="true"
    )

    assert building.plate_code in text(response)
    assert "<html" not in text(response)
    assert 'id="building-results"' not in text(response)


# A building ------------------------------------------------------------------------


def test_detail_shows_levy_and_plate(officer, building):
    page = text(officer.get(detail_url(building)))

    assert "RT-II · Rumah Tangga II" in page
    assert "Rp 7,500 per month" in page
    assert building.plate_code in page
    assert reverse("registry:plate_pdf", kwargs={"building_id": building.pk}) in page


def test_detail_shows_members_unmasked_to_officer(officer, household):
    page = text(officer.get(detail_url(household.building)))

    assert "Siti Rahmah" in page
    assert HEAD_NIK in page
    assert KK_NUMBER in page


def test_detail_masks_numbers_for_revenue_officer(english, household):
    page = text(english("revenue_officer").get(detail_url(household.building)))

    assert "Siti Rahmah" in page
    assert HEAD_NIK not in page
    assert KK_NUMBER not in page
    assert "1374********0001" in page
    assert "1374********0003" in page


def test_detail_hides_households_without_permission(english, household):
    page = text(english("command_center").get(detail_url(household.building)))

    assert household.building.plate_code in page
    assert "Siti Rahmah" not in page
    assert "1374********0001" not in page


def test_detail_loads_ledger_history_separately(officer, building):
    page = text(officer.get(detail_url(building)))

    assert f'hx-get="{detail_url(building)}?history=1"' in page
    assert "/ledger/entries/" not in page


def test_detail_links_ledger_entries(officer, building):
    page = text(officer.get(detail_url(building), {"history": "1"}))
    registered = Entry.objects.get(event_type="registry.building.registered")
    issued = Entry.objects.get(event_type="registry.plate.issued")

    assert f'href="/ledger/entries/{registered.seq}/"' in page
    assert f'href="/ledger/entries/{issued.seq}/"' in page


def test_htmx_gets_history_only(officer, building):
    response = officer.get(
        detail_url(building), {"history": "1"}, HTTP_HX_REQUEST="true"
    )

    assert "<html" not in text(response)
    assert "registry.building.registered" in text(response)


def test_ledger_history_matches_exact_id(building, city):
    # Ids 1 and 10 share a prefix; only the building's own entries match.
    others = [register_building(building_input()) for _ in range(10)]
    history = {e.seq for e in queries.building_entries(building)}
    other_history = {e.seq for e in queries.building_entries(others[-1])}

    assert len(history) == 2
    assert not history & other_history


def test_other_kelurahan_detail_is_403(officer, elsewhere):
    response = officer.get(detail_url(elsewhere))

    assert response.status_code == 403
    assert "This building is in Kelurahan Ganting" in text(response)
    assert "Pasar Usang" in text(response)
    assert elsewhere.street_address not in text(response)


def test_missing_building_is_404(officer, city):
    response = officer.get(
        reverse("registry:building_detail", kwargs={"building_id": 999})
    )

    assert response.status_code == 404


# Forms -------------------------------------------------------------------------------


def building_form(**changes) -> dict[str, str]:
    values = {
        "kelurahan_code": PASAR_USANG,
        "rw": "4",
        "rt": "1",
        "street_address": "Jl. Imam Bonjol No. 7",
        "use": "house",
        "lat": "-0.465300",
        "lng": "100.400800",
        "floors": "2",
        "floor_area_m2": "90",
        "pln_va": "1300",
        "status": "active",
    }
    values.update(changes)
    return values


def test_register_building_redirects_to_detail(officer, city):
    response = officer.post(
        reverse("registry:building_create"), building_form(), follow=True
    )

    building = Building.objects.get()
    assert response.redirect_chain == [(detail_url(building), 302)]
    assert f"Registered the building; its plate code is {building.plate_code}." in text(
        response
    )
    assert building.levy_class == "RT-II"
    assert (building.unit.rw, building.unit.rt) == ("004", "001")


def test_register_form_shows_every_error(officer, city):
    response = officer.post(
        reverse("registry:building_create"),
        building_form(rw="0", street_address=" ", lat="-0.46", lng="", floors="two"),
    )

    page = text(response)
    assert response.status_code == 200
    assert "Enter a number from 1 to 999, such as 3 or 003." in page
    assert "Enter both latitude and longitude, or neither." in page
    assert "Enter a whole number, such as 1300." in page
    assert not Building.objects.exists()
    errors = response.context["form"].errors
    assert set(errors) == {"rw", "street_address", "lng", "floors"}


def test_register_warns_without_pln_connection(officer, city):
    response = officer.post(
        reverse("registry:building_create"), building_form(pln_va=""), follow=True
    )

    assert "without it the household levy class cannot be set." in text(response)


def test_officer_cannot_register_elsewhere(officer, city):
    response = officer.post(
        reverse("registry:building_create"), building_form(kelurahan_code=GANTING)
    )

    assert "kelurahan_code" in response.context["form"].errors
    assert not Building.objects.exists()


def test_register_form_has_map_picker(officer, city):
    page = text(officer.get(reverse("registry:building_create")))

    assert "data-map-picker" in page
    assert "vendor/leaflet/leaflet.js" in page
    assert 'id="kelurahan-boundaries"' in page


def test_edit_building_changes_levy(officer, building):
    url = reverse("registry:building_edit", kwargs={"building_id": building.pk})
    form = officer.get(url).context["form"]
    values = {name: form[name].value() or "" for name in form.fields}
    values["pln_va"] = "6600"

    response = officer.post(url, values, follow=True)

    building.refresh_from_db()
    assert building.levy_class == "RT-IV"
    assert "Saved the building." in text(response)


def test_edit_without_changes_says_so(officer, building):
    url = reverse("registry:building_edit", kwargs={"building_id": building.pk})
    form = officer.get(url).context["form"]
    values = {name: form[name].value() or "" for name in form.fields}

    response = officer.post(url, values, follow=True)

    assert "Nothing was changed." in text(response)


def household_form(*members: dict[str, str], kk: str = NEW_KK) -> dict[str, str]:
    data = {
        "kk_number": kk,
        "members-TOTAL_FORMS": str(len(members)),
        "members-INITIAL_FORMS": "0",
        "members-MIN_NUM_FORMS": "0",
        "members-MAX_NUM_FORMS": "20",
    }
    for index, member in enumerate(members):
        for name, value in member.items():
            data[f"members-{index}-{name}"] = value
    return data


HEAD = {"full_name": "Yusnidar", "nik": NEW_HEAD_NIK, "relation": "head", "phone": ""}
BLANK = {"full_name": "", "nik": "", "relation": "", "phone": ""}


def test_register_household_with_members(officer, building):
    url = reverse("registry:household_create", kwargs={"building_id": building.pk})
    child = {
        "full_name": "Fadli",
        "nik": "1374021004100006",
        "relation": "child",
        "phone": "",
    }

    response = officer.post(url, household_form(HEAD, child, BLANK), follow=True)

    household = Household.objects.get()
    assert "Registered the household with 2 members." in text(response)
    assert household.members.count() == 2
    assert household.head.full_name == "Yusnidar"


def test_household_errors_land_on_rows(officer, building):
    url = reverse("registry:household_create", kwargs={"building_id": building.pk})
    bad = {
        "full_name": "Fadli",
        "nik": "1374021004100000",
        "relation": "child",
        "phone": "",
    }

    response = officer.post(url, household_form(HEAD, BLANK, bad, kk="123"))

    formset = response.context["formset"]
    assert "A KK number has exactly 16 digits." in str(response.context["form"].errors)
    assert formset.forms[2].errors["nik"] == [
        "The last four digits of a NIK cannot be 0000."
    ]
    assert not formset.forms[0].errors
    assert not Household.objects.exists()


def test_household_needs_one_head(officer, building):
    url = reverse("registry:household_create", kwargs={"building_id": building.pk})

    response = officer.post(url, household_form({**HEAD, "relation": "spouse"}))

    assert "Mark exactly one member as head of household." in text(response)


def test_add_edit_remove_member(officer, household):
    add_url = reverse("registry:member_create", kwargs={"household_id": household.pk})
    officer.post(
        add_url,
        {
            "full_name": "Nurul",
            "nik": "1374026507200007",
            "relation": "child",
            "phone": "",
        },
    )
    member = Member.objects.get(full_name="Nurul")

    edit_url = reverse("registry:member_edit", kwargs={"member_id": member.pk})
    officer.post(
        edit_url,
        {
            "full_name": "Nurul Hidayah",
            "nik": "1374026507200007",
            "relation": "child",
            "phone": "08123456789",
        },
    )
    member.refresh_from_db()
    assert (member.full_name, member.phone) == ("Nurul Hidayah", "08123456789")

    officer.post(reverse("registry:member_remove", kwargs={"member_id": member.pk}))
    member.refresh_from_db()
    assert member.status == Member.Status.REMOVED


def test_second_head_is_rejected(officer, household):
    add_url = reverse("registry:member_create", kwargs={"household_id": household.pk})

    response = officer.post(
        add_url,
        {
            "full_name": "Nurul",
            "nik": "1374026507200007",
            "relation": "head",
            "phone": "",
        },
    )

    assert response.context["form"].errors["relation"] == [
        "This household already has a head; change that member first."
    ]


def test_move_household_by_plate_code(officer, household, city):
    target = register_building(building_input(street_address="Jl. Baru No. 2"))
    url = reverse("registry:household_move", kwargs={"household_id": household.pk})

    response = officer.post(url, {"plate_code": target.plate_code.lower()}, follow=True)

    household.refresh_from_db()
    assert household.building == target
    assert response.redirect_chain[-1][0] == detail_url(target)
    assert household.residences.count() == 2


def test_move_to_unknown_plate_rejected(officer, household):
    url = reverse("registry:household_move", kwargs={"household_id": household.pk})
    unused = new_plate_code(plate_prefix())

    page = text(officer.post(url, {"plate_code": unused}))

    assert f"No building has the live plate {unused}" in page
    household.refresh_from_db()
    assert household.residences.count() == 1


def test_move_with_mistyped_code_rejected(officer, household):
    url = reverse("registry:household_move", kwargs={"household_id": household.pk})
    code = household.building.plate_code
    typo = code[:-1] + ("0" if code[-1] != "0" else "1")

    page = text(officer.post(url, {"plate_code": typo}))

    assert "The check character of this plate code does not match" in page


def test_move_to_other_kelurahan_rejected(officer, household, elsewhere):
    url = reverse("registry:household_move", kwargs={"household_id": household.pk})

    page = text(officer.post(url, {"plate_code": elsewhere.plate_code}))

    assert "That building is in Kelurahan Ganting" in page
    household.refresh_from_db()
    assert household.building_id != elsewhere.pk


def test_retire_household(officer, household):
    url = reverse("registry:household_retire", kwargs={"household_id": household.pk})

    response = officer.post(url, follow=True)

    household.refresh_from_db()
    assert household.status == Household.Status.RETIRED
    assert "Retired the household and its members." in text(response)
    assert not household.members.filter(status=Member.Status.ACTIVE).exists()


def test_reissue_plate_from_form(officer, building):
    old_code = building.plate_code
    url = reverse("registry:plate_manage", kwargs={"building_id": building.pk})

    response = officer.post(
        url, {"action": "reissue", "reason": "damaged", "note": ""}, follow=True
    )

    building.refresh_from_db()
    assert building.plate_code != old_code
    assert Plate.objects.get(code=old_code).status == Plate.Status.REVOKED
    assert f"Issued plate {building.plate_code}" in text(response)


def test_revoke_plate_without_replacement(officer, building):
    url = reverse("registry:plate_manage", kwargs={"building_id": building.pk})

    officer.post(url, {"action": "revoke", "reason": "lost", "note": "fell off"})

    plate = Plate.objects.get(building=building)
    assert plate.status == Plate.Status.REVOKED
    assert plate.revoke_reason == "lost: fell off"


def test_unknown_revoke_reason_rejected(officer, building):
    url = reverse("registry:plate_manage", kwargs={"building_id": building.pk})

    response = officer.post(url, {"action": "revoke", "reason": "bored"})

    assert "reason" in response.context["form"].errors
    assert Plate.objects.get(building=building).status == Plate.Status.ISSUED


# The map ----------------------------------------------------------------------------


def test_map_works_without_tiles(officer, city):
    page = text(officer.get(reverse("registry:map")))
    boundaries = json.loads(
        re.search(
            r'<script id="kelurahan-boundaries" type="application/json">(.*?)</script>',
            page,
            re.S,
        )[1]
    )

    assert "vendor/leaflet/leaflet.js" in page
    assert "vendor/leaflet/leaflet.css" in page
    assert 'data-tile-url=""' in page
    assert len(boundaries["features"]) == 16
    assert 'data-focus="13.74.02.1002"' in page


@override_settings(
    KOTACERDAS_MAP_TILE_URL="http://127.0.0.1:8080/{z}/{x}/{y}.png",
    KOTACERDAS_MAP_TILE_ATTRIBUTION="Tiles: test",
)
def test_map_uses_configured_tiles(officer, city):
    page = text(officer.get(reverse("registry:map")))

    assert 'data-tile-url="http://127.0.0.1:8080/{z}/{x}/{y}.png"' in page
    assert 'data-tile-attribution="Tiles: test"' in page


def geojson(client: Client, **params) -> dict:
    response = client.get(reverse("registry:map_buildings"), params)
    assert response.status_code == 200, response.content
    return response.json()


def test_geojson_has_no_personal_data(officer, household):
    collection = geojson(officer)

    [feature] = collection["features"]
    assert feature["properties"]["plate_code"] == household.building.plate_code
    assert feature["properties"]["levy_class"] == "RT-II"
    assert feature["geometry"]["coordinates"] == [100.4002, -0.4651]
    body = json.dumps(collection)
    assert "Siti" not in body
    assert HEAD_NIK not in body
    assert CHILD_NIK not in body


def test_geojson_follows_filters_and_scope(officer, building, elsewhere):
    assert len(geojson(officer)["features"]) == 1
    assert geojson(officer, use="shop")["features"] == []
    inside = "100.39,-0.47,100.41,-0.46"
    outside = "100.30,-0.40,100.31,-0.39"
    assert len(geojson(officer, bbox=inside)["features"]) == 1
    assert geojson(officer, bbox=outside)["features"] == []


def test_geojson_clusters_when_many(officer, city, monkeypatch):
    for number in range(6):
        register_building(
            building_input(
                lat=f"-0.46{number}", lng="100.40", street_address=f"No. {number}"
            )
        )
    monkeypatch.setattr(queries, "MAX_MAP_POINTS", 3)

    features = geojson(officer)["features"]

    assert {f["properties"]["kind"] for f in features} == {"cluster"}
    assert sum(f["properties"]["count"] for f in features) == 6


def test_geojson_rejects_bad_bbox(officer, city):
    response = officer.get(reverse("registry:map_buildings"), {"bbox": "1,2,3"})

    assert response.status_code == 400
    assert response.json()["error"]["field"] == "bbox"


# The home page ------------------------------------------------------------------


def test_home_shows_kelurahan_counts(officer, household, elsewhere):
    response = officer.get(reverse("accounts:home"))
    counts = response.context["registry_counts"]

    assert (counts.buildings, counts.households, counts.live_plates) == (1, 1, 1)
    assert "Registry of Kelurahan Pasar Usang" in text(response)
    assert reverse("registry:building_create") in text(response)


def test_home_links_collector_to_scan(english, city):
    page = text(english("collector").get(reverse("accounts:home")))

    assert reverse("registry:scan") in page
    assert reverse("registry:building_list") not in page.split("<main>")[1]


def test_home_counts_city_for_city_roles(english, household, elsewhere):
    counts = (
        english("revenue_officer")
        .get(reverse("accounts:home"))
        .context["registry_counts"]
    )

    assert counts.buildings == 2


# The admin ------------------------------------------------------------------------


def test_admin_lists_registry_read_only(household, django_user_model):
    superuser = django_user_model.objects.create_superuser("root", password="x")
    client = Client()
    client.force_login(superuser)
    member = household.members.first()

    listing = client.get("/admin/registry/building/")
    detail = client.get(f"/admin/registry/member/{member.pk}/change/")
    add = client.get("/admin/registry/building/add/")
    imports = client.get("/admin/registry/importbatch/")

    assert household.building.plate_code in text(listing)
    assert detail.status_code == 200
    assert HEAD_NIK not in text(detail)
    assert "nik_index" not in text(detail)
    assert add.status_code == 403
    assert imports.status_code == 200
