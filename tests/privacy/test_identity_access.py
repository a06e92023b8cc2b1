"""Every unmasked NIK/KK view is recorded, and admins and auditors can read the log."""

import json

import pytest
from django.urls import reverse

from kotacerdas.accounts.models import AuditEvent
from kotacerdas.registry.scan import household_views

from .conftest import HEAD_NIK, KK_NUMBER


def identity_events() -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(kind=AuditEvent.Kind.IDENTITY_VIEWED).order_by("id")
    )


def test_building_page_records_unmasked_view(household, signed_in, personas):
    client = signed_in("registry_officer")
    url = reverse("registry:building_detail", args=[household.building_id])

    response = client.get(url)

    assert HEAD_NIK in response.content.decode()
    [event] = identity_events()
    assert event.user == personas["registry_officer"]
    assert event.detail["view"] == "registry:building_detail"
    assert event.detail["member_ids"] == sorted(
        household.members.values_list("pk", flat=True)
    )
    assert event.detail["household_ids"] == [household.pk]


def test_masked_view_records_nothing(household, signed_in):
    client = signed_in("revenue_officer")
    url = reverse("registry:building_detail", args=[household.building_id])

    response = client.get(url)

    assert response.status_code == 200
    assert HEAD_NIK not in response.content.decode()
    assert identity_events() == []


def test_member_edit_records_view(head, signed_in):
    client = signed_in("registry_officer")

    client.get(reverse("registry:member_edit", args=[head.pk]))

    [event] = identity_events()
    assert event.detail["view"] == "registry:member_edit"
    assert event.detail["member_ids"] == [head.pk]


def test_household_retire_records_view(household, signed_in):
    client = signed_in("registry_officer")

    client.get(reverse("registry:household_retire", args=[household.pk]))

    [event] = identity_events()
    assert event.detail["household_ids"] == [household.pk]


def test_api_household_records_view(household, signed_in):
    client = signed_in("registry_officer")

    response = client.get(f"/api/registry/buildings/{household.building_id}/households")

    assert response.status_code == 200
    assert KK_NUMBER in response.content.decode()
    [event] = identity_events()
    assert event.detail["view"] == "api:registry_household"
    assert event.detail["household_ids"] == [household.pk]


def test_scan_page_records_view(household, personas):
    household_views(household.building, personas["registry_officer"])

    [event] = identity_events()
    assert event.detail["view"] == "registry:scan"
    assert len(event.detail["member_ids"]) == 2


def test_events_hold_ids_not_numbers(household, signed_in):
    signed_in("registry_officer").get(
        reverse("registry:building_detail", args=[household.building_id])
    )

    stored = json.dumps([event.detail for event in identity_events()])
    assert HEAD_NIK not in stored
    assert KK_NUMBER not in stored


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("admin", 200),
        ("auditor", 200),
        ("registry_officer", 403),
        ("revenue_officer", 403),
        ("collector", 403),
        ("citizen", 403),
        ("merchant", 403),
        ("command_center", 403),
        ("outsider", 403),
    ],
)
def test_identity_log_page_by_persona(household, signed_in, persona, status):
    signed_in("registry_officer").get(
        reverse("registry:building_detail", args=[household.building_id])
    )

    response = signed_in(persona).get(reverse("registry:identity_view_log"))

    assert response.status_code == status
    if status == 200:
        page = response.content.decode()
        assert "persona-registry_officer" in page
        assert "registry:building_detail" in page


def test_identity_log_requires_sign_in(client):
    response = client.get(reverse("registry:identity_view_log"))

    assert response.status_code == 302
    assert "/login" in response["Location"] or "login" in response["Location"]
