"""Partner costs: recorded and corrected through the journal, checked on input."""

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import translation
from tests.sharing.statement_setup import (
    add_cost,
    fix_cost,
    make_pilot,
    set_schedule,
    today,
)

from kotacerdas.accounts.roles import ROLES
from kotacerdas.journal.keys import node_verifier
from kotacerdas.journal.models import Entry
from kotacerdas.journal.services import salted_hash
from kotacerdas.journal.verify import verify_ledger
from kotacerdas.sharing.models import PartnerCost
from kotacerdas.sharing.services import CostRejected

pytestmark = pytest.mark.django_db

PERSONAS = [role.name for role in ROLES] + ["outsider"]
COSTS_URL = "/sharing/costs/"


@pytest.fixture
def pilot(city):
    set_schedule(city)
    return make_pilot()


@pytest.fixture
def admin(personas):
    return personas["admin"]


def payloads(event_type):
    rows = Entry.objects.filter(event_type=event_type).order_by("seq")
    return [json.loads(bytes(row.body))["payload"] for row in rows]


def form_data(chosen_pilot, **changes):
    data = {
        "pilot": str(chosen_pilot.pk),
        "category": "maintenance",
        "incurred_on": today().isoformat(),
        "amount_rupiah": "2.500.000",
        "description": "Servis pemindai QR",
    }
    return {**data, **changes}


# Recording and correcting ---------------------------------------------------------


def test_recorded_cost_is_journaled(pilot, admin):
    cost = add_cost(pilot, admin, amount=1_500_000, text="QR scanners")

    [event] = payloads("sharing.cost.recorded")
    assert event["cost_id"] == cost.pk
    assert event["pilot_slug"] == "uji-coba"
    assert event["amount_rupiah"] == 1_500_000
    assert event["category"] == "hardware"
    assert event["incurred_on"] == today().isoformat()
    assert event["description_hash"] == salted_hash("QR scanners")
    assert (event["city_bp"], event["partner_bp"], event["remainder_to"]) == (
        4000,
        6000,
        "city",
    )
    assert "QR scanners" not in json.dumps(event)
    assert cost.entry_seq == Entry.objects.get(event_type="sharing.cost.recorded").seq


def test_correction_adds_row_keeps_original(pilot, admin):
    original = add_cost(pilot, admin, amount=1_500_000)

    fixed = fix_cost(original, admin, amount=1_250_000)

    original.refresh_from_db()
    assert original.amount_rupiah == 1_500_000
    assert not original.in_effect
    assert fixed.in_effect
    assert fixed.corrects_id == original.pk
    [event] = payloads("sharing.cost.corrected")
    assert event["corrects_cost_id"] == original.pk
    assert event["amount_rupiah"] == 1_250_000
    assert event["reason_hash"] == salted_hash("invoice mistyped")
    assert PartnerCost.objects.count() == 2


def test_second_correction_of_same_cost_rejected(pilot, admin):
    original = add_cost(pilot, admin)
    first = fix_cost(original, admin, amount=900_000)

    with translation.override("en"), pytest.raises(CostRejected) as caught:
        fix_cost(original, admin, amount=800_000)

    assert caught.value.field == "cost"
    assert caught.value.code == "already_corrected"
    assert f"cost {first.pk}" in caught.value.message
    assert PartnerCost.objects.count() == 2


def test_correction_to_zero_withdraws(pilot, admin):
    original = add_cost(pilot, admin)

    fixed = fix_cost(original, admin, amount=0, reason="recorded twice")

    assert fixed.amount_rupiah == 0


def test_database_rejects_second_correction_row(pilot, admin):
    original = add_cost(pilot, admin)
    fix_cost(original, admin, amount=900_000)

    with pytest.raises(IntegrityError), transaction.atomic():
        PartnerCost.objects.create(
            pilot=pilot,
            category="hardware",
            incurred_on=today(),
            amount_rupiah=1,
            description="x",
            reason="y",
            corrects=original,
            recorded_by=admin,
            recorded_at=original.recorded_at,
        )


def test_database_rejects_zero_first_amount(pilot, admin):
    with pytest.raises(IntegrityError), transaction.atomic():
        PartnerCost.objects.create(
            pilot=pilot,
            category="hardware",
            incurred_on=today(),
            amount_rupiah=0,
            description="x",
            recorded_by=admin,
            recorded_at=pilot.created_at,
        )


# Bad input ------------------------------------------------------------------------


BAD_COSTS = [
    ({"amount": 0}, "amount_rupiah", "above zero"),
    ({"amount": -5}, "amount_rupiah", "above zero"),
    ({"amount": 10**12 + 1}, "amount_rupiah", "smaller amount"),
    ({"text": "   "}, "description", "required"),
    ({"text": "x" * 201}, "description", "at most 200"),
    ({"text": "Teknisi 081234567890"}, "description", "phone number"),
    ({"text": "NIK 1374024708950001"}, "description", "NIK"),
    # A number of days from today, so the date is taken when the test runs.
    ({"day": 1}, "incurred_on", "future"),
    ({"category": "lunch"}, "category", "operations, maintenance or hardware"),
]


@pytest.mark.parametrize(("changes", "field", "words"), BAD_COSTS)
def test_bad_cost_rejected_naming_field(pilot, admin, changes, field, words):
    if "day" in changes:
        changes = {**changes, "day": today() + timedelta(days=changes["day"])}
    with translation.override("en"), pytest.raises(CostRejected) as caught:
        add_cost(pilot, admin, **changes)

    assert caught.value.field == field
    assert words in caught.value.message
    assert PartnerCost.objects.count() == 0
    assert not Entry.objects.filter(event_type="sharing.cost.recorded").exists()


def test_cost_before_any_rule_rejected(pilot, admin):
    with translation.override("en"), pytest.raises(CostRejected) as caught:
        add_cost(pilot, admin, day=today().replace(year=2024))

    assert caught.value.field == "incurred_on"
    assert "No sharing rule is in force" in caught.value.message


def test_correction_needs_reason(pilot, admin):
    original = add_cost(pilot, admin)

    with translation.override("en"), pytest.raises(CostRejected) as caught:
        fix_cost(original, admin, reason=" ")

    assert caught.value.field == "reason"


# Pages ----------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_costs_page_access_by_role(signed_in, pilot, persona):
    client = signed_in(persona)

    response = client.get(COSTS_URL)
    posted = client.post(COSTS_URL, form_data(pilot))

    if persona == "admin":
        assert response.status_code == 200
        assert posted.status_code == 302
        assert PartnerCost.objects.count() == 1
    else:
        assert response.status_code == 403
        assert posted.status_code == 403
        assert PartnerCost.objects.count() == 0


def test_costs_page_sends_visitor_to_login(pilot):
    response = Client().get(COSTS_URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login") + "?next=")


def test_cost_form_records_typed_amount(signed_in, pilot):
    client = signed_in("admin")

    response = client.post(COSTS_URL, form_data(pilot, amount_rupiah="Rp2.500.000"))

    cost = PartnerCost.objects.get()
    assert response["Location"] == f"{COSTS_URL}?recorded={cost.pk}"
    assert cost.amount_rupiah == 2_500_000
    assert cost.recorded_by.username == "persona-admin"
    listing = client.get(response["Location"])
    assert "Servis pemindai QR" in listing.content.decode()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"amount_rupiah": "2,5 juta"}, "Enter the amount in whole rupiah"),
        ({"incurred_on": "15/11/2026"}, "Enter the date as YYYY-MM-DD"),
        ({"description": "hubungi 081234567890"}, "Remove the NIK"),
        ({"pilot": ""}, "Choose the pilot the cost belongs to"),
    ],
)
def test_cost_form_shows_field_error(signed_in, pilot, changes, expected):
    client = signed_in("admin")
    client.cookies["django_language"] = "en"
    data = form_data(pilot, **changes)

    response = client.post(COSTS_URL, data)

    assert response.status_code == 400
    page = response.content.decode()
    assert expected in page
    assert PartnerCost.objects.count() == 0
    # What was typed is still in the form, so nothing is lost.
    assert f'value="{data["amount_rupiah"]}"' in page


def test_cost_form_error_in_indonesian(signed_in, pilot):
    client = signed_in("admin")
    with translation.override("id"):
        label = str(translation.gettext("Amount (Rp)"))

    response = client.post(COSTS_URL, form_data(pilot, amount_rupiah="2,5 juta"))

    assert response.status_code == 400
    page = response.content.decode()
    assert '<html lang="id">' in page
    assert label != "Amount (Rp)"
    assert f"{label}:" in page


def test_correction_page_replaces_cost(signed_in, pilot, admin):
    original = add_cost(pilot, admin, amount=1_500_000)
    client = signed_in("admin")
    url = reverse("sharing:cost_correct", kwargs={"cost_id": original.pk})

    page = client.get(url)
    response = client.post(
        url,
        {
            "category": "hardware",
            "incurred_on": today().isoformat(),
            "amount_rupiah": "1.200.000",
            "description": "QR scanners",
            "reason": "supplier credit note",
        },
    )

    assert page.status_code == 200
    assert response.status_code == 302
    fixed = PartnerCost.objects.get(corrects=original)
    assert fixed.amount_rupiah == 1_200_000
    assert fixed.pilot_id == pilot.pk


def test_correction_page_rejects_replaced_cost(signed_in, pilot, admin):
    original = add_cost(pilot, admin)
    fix_cost(original, admin, amount=5)
    client = signed_in("admin")
    client.cookies["django_language"] = "en"
    url = reverse("sharing:cost_correct", kwargs={"cost_id": original.pk})

    response = client.post(
        url,
        {
            "category": "hardware",
            "incurred_on": today().isoformat(),
            "amount_rupiah": "7",
            "description": "QR scanners",
            "reason": "again",
        },
    )

    assert response.status_code == 400
    assert "was already corrected" in response.content.decode()
    assert PartnerCost.objects.count() == 2


# Replay check ---------------------------------------------------------------------


def test_ledger_verify_accepts_costs(pilot, admin):
    fix_cost(add_cost(pilot, admin), admin, amount=900_000)
    call_command("ledger", "seal")

    result = verify_ledger(node_verifier())

    assert result.ok, result.problems


def test_ledger_verify_names_changed_cost(pilot, admin):
    cost = add_cost(pilot, admin, amount=1_500_000)
    PartnerCost.objects.filter(pk=cost.pk).update(amount_rupiah=1_600_000)
    call_command("ledger", "seal")

    result = verify_ledger(node_verifier())

    assert f"partner cost {cost.pk}: amount_rupiah differs" in " ".join(result.problems)


def test_ledger_verify_names_changed_description(pilot, admin):
    cost = add_cost(pilot, admin, text="QR scanners")
    PartnerCost.objects.filter(pk=cost.pk).update(description="Something else")
    call_command("ledger", "seal")

    result = verify_ledger(node_verifier())

    assert f"partner cost {cost.pk}: description_hash differs" in " ".join(
        result.problems
    )
