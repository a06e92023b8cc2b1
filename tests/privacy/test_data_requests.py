"""Export and erasure of a citizen's personal data, and that proofs survive erasure."""

import json
from pathlib import Path

import pytest
from django.urls import reverse
from tests.waste.reports.conftest import png_photo, report_input

from kotacerdas.accounts.models import AuditEvent, User
from kotacerdas.journal import bundles
from kotacerdas.journal.keys import node_verifier
from kotacerdas.journal.models import Entry
from kotacerdas.journal.services import seal_pending
from kotacerdas.journal.verify import verify_ledger
from kotacerdas.ops.pii_scan import Scanner, journal_findings
from kotacerdas.registry import privacy
from kotacerdas.registry.models import Household, Member
from kotacerdas.registry.services import member_nik
from kotacerdas.verify import verify_bundle
from kotacerdas.wallet import services as wallet
from kotacerdas.wallet.models import Transfer, TransferKind
from kotacerdas.waste.reports.models import Report
from kotacerdas.waste.reports.services import file_report

from .conftest import HEAD_NAME, HEAD_NIK, HEAD_PHONE, KK_NUMBER

PERSONAS_WITH_ACCESS = {"admin", "registry_officer"}
ALL_PERSONAS = [
    "admin",
    "registry_officer",
    "waste_operator",
    "collector",
    "waste_bank_teller",
    "revenue_officer",
    "cashier",
    "merchant",
    "citizen",
    "auditor",
    "command_center",
    "outsider",
]


@pytest.fixture
def spent_wallet(head_wallet, personas):
    """The head's wallet after a top-up of Rp 50.000 spent in full at a merchant."""
    merchant = wallet.open_merchant(personas["merchant"], "Warung Nasi")
    wallet.top_up(head_wallet.number, 50_000, transfer_id="privacy-topup-a")
    wallet.submit(
        wallet.TransferRequest(
            id="privacy-pay-a",
            debit=head_wallet.number,
            credit=merchant.number,
            amount=50_000,
            kind=TransferKind.PAYMENT,
        )
    )
    head_wallet.refresh_from_db()
    return head_wallet


def audit_kinds() -> list[str]:
    """Return the kinds of the personal-data audit events, oldest first."""
    personal = ["identity_viewed", "data_exported", "data_erased"]
    events = AuditEvent.objects.filter(kind__in=personal).order_by("id")
    return list(events.values_list("kind", flat=True))


# Permissions ---------------------------------------------------------------------


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_subject_page_by_persona(head, signed_in, persona):
    response = signed_in(persona).get(
        reverse("registry:privacy_subject", args=[head.pk])
    )

    assert response.status_code == (200 if persona in PERSONAS_WITH_ACCESS else 403)


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_erase_post_by_persona(head, signed_in, persona):
    url = reverse("registry:privacy_erase", args=[head.pk])

    response = signed_in(persona).post(url, {"confirm": "on"})

    if persona in PERSONAS_WITH_ACCESS:
        assert response.status_code == 302
        assert privacy.is_erased(Member.objects.get(pk=head.pk))
    else:
        assert response.status_code == 403
        assert not privacy.is_erased(Member.objects.get(pk=head.pk))


def test_pages_require_sign_in(head, client):
    for name in ("privacy_index", "identity_view_log"):
        assert client.get(reverse(f"registry:{name}")).status_code == 302
    url = reverse("registry:privacy_export", args=[head.pk])
    assert client.get(url).status_code == 302


# Export --------------------------------------------------------------------------


def test_lookup_by_nik_opens_subject(head, signed_in):
    client = signed_in("registry_officer")

    response = client.post(reverse("registry:privacy_index"), {"nik": HEAD_NIK})

    assert response.status_code == 302
    assert response["Location"] == reverse("registry:privacy_subject", args=[head.pk])
    assert HEAD_NIK not in response["Location"]


def test_lookup_unknown_nik_says_so(household, signed_in):
    client = signed_in("registry_officer")

    response = client.post(
        reverse("registry:privacy_index"), {"nik": "1374020101990009"}
    )

    assert response.status_code == 200
    assert "No household member has this NIK" in response.content.decode()


def test_export_contains_everything_about_citizen(spent_wallet, head, signed_in):
    client = signed_in("registry_officer")

    response = client.get(reverse("registry:privacy_export", args=[head.pk]))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.content)
    assert data["person"]["full_name"] == HEAD_NAME
    assert data["person"]["nik"] == HEAD_NIK
    assert data["person"]["phone"] == HEAD_PHONE
    assert data["user_account"]["email"] == "siti@example.id"
    assert data["household"]["kk_number"] == KK_NUMBER
    assert data["household"]["other_members"] == 1
    [account] = data["wallets"]
    assert account["number"] == spent_wallet.number
    assert [t["amount_rupiah"] for t in account["transfers"]] == [50_000, 50_000]
    assert [t["direction"] for t in account["transfers"]] == ["in", "out"]
    assert len(data["residences"]) == 1
    assert "Rizky" not in response.content.decode()


def test_export_is_audited(head, signed_in, personas):
    client = signed_in("registry_officer")

    client.get(reverse("registry:privacy_export", args=[head.pk]))

    assert audit_kinds() == ["data_exported", "identity_viewed"]
    exported = AuditEvent.objects.get(kind="data_exported")
    assert exported.user == personas["registry_officer"]
    assert exported.detail == {"member_id": head.pk, "household_id": head.household_id}


def test_export_lists_who_saw_numbers(head, signed_in):
    signed_in("registry_officer").get(
        reverse("registry:building_detail", args=[head.household.building_id])
    )

    data = privacy.export_subject(head, actor=None)

    views = [
        event for event in data["audit_events"] if event["kind"] == "identity_viewed"
    ]
    assert [event["by"] for event in views] == ["persona-registry_officer"]
    assert views[0]["view"] == "registry:building_detail"


def test_subject_page_reads_clearly(spent_wallet, head, signed_in):
    response = signed_in("registry_officer").get(
        reverse("registry:privacy_subject", args=[head.pk])
    )

    page = response.content.decode()
    assert HEAD_NAME in page
    assert HEAD_NIK in page
    assert "2 transfers" in page
    assert "Download as JSON" in page


# Erasure -------------------------------------------------------------------------


def test_erasure_rejected_while_wallet_has_money(head_wallet, head, signed_in):
    wallet.top_up(head_wallet.number, 10_000, transfer_id="privacy-topup-b")
    client = signed_in("registry_officer")
    url = reverse("registry:privacy_erase", args=[head.pk])

    response = client.post(url, {"confirm": "on"})

    assert response.status_code == 200
    assert (
        f"Wallet {head_wallet.number} still contains money" in response.content.decode()
    )
    assert Member.objects.get(pk=head.pk).full_name == HEAD_NAME
    assert "data_erased" not in audit_kinds()


def test_erasure_needs_confirmation(head, signed_in):
    client = signed_in("registry_officer")
    url = reverse("registry:privacy_erase", args=[head.pk])

    response = client.post(url, {})

    assert response.status_code == 200
    assert "Tick the box to confirm before erasing." in response.content.decode()
    assert not privacy.is_erased(Member.objects.get(pk=head.pk))


def test_erasure_page_explains_what_stays(head, signed_in):
    response = signed_in("registry_officer").get(
        reverse("registry:privacy_erase", args=[head.pk])
    )

    page = response.content.decode()
    assert "Erasing cannot be undone." in page
    assert "Receipts and ledger proofs keep verifying." in page


def test_erasure_replaces_personal_fields(spent_wallet, head, citizen_user, personas):
    result = privacy.erase_subject(head, actor=personas["registry_officer"])

    member = Member.objects.get(pk=head.pk)
    assert member.full_name == privacy.ERASED_NAME
    assert member_nik(member, unmasked=True) == ""
    assert member.phone == ""
    assert member.birth_date is None
    assert member.user is None
    assert member.status == Member.Status.REMOVED
    user = User.objects.get(pk=citizen_user.pk)
    assert user.username == f"erased-{user.pk}"
    assert (user.first_name, user.last_name, user.email) == ("", "", "")
    assert not user.is_active
    assert not user.has_usable_password()
    assert result.household_erased is False
    assert Transfer.objects.filter(debit_account=spent_wallet).count() == 1


def test_erasure_keeps_kk_until_last_member(household, personas):
    head, child = household.members.order_by("id")
    actor = personas["registry_officer"]

    first = privacy.erase_subject(head, actor=actor)
    second = privacy.erase_subject(child, actor=actor)

    assert (first.household_erased, second.household_erased) == (False, True)
    erased = Household.objects.get(pk=household.pk)
    assert erased.kk_index.startswith(privacy.ERASED_INDEX_PREFIX)
    assert Entry.objects.filter(event_type="registry.household.erased").count() == 1


def test_erasure_twice_is_rejected(head, personas):
    privacy.erase_subject(head, actor=personas["admin"])

    with pytest.raises(privacy.ErasureRejected, match="already been erased"):
        privacy.erase_subject(Member.objects.get(pk=head.pk), actor=personas["admin"])


def test_erasure_is_audited_without_personal_data(head, citizen_user, personas):
    privacy.erase_subject(head, actor=personas["admin"])

    event = AuditEvent.objects.get(kind="data_erased")
    assert event.user == personas["admin"]
    assert event.detail["member_id"] == head.pk
    assert event.detail["user_id"] == citizen_user.pk
    stored = json.dumps(event.detail)
    assert HEAD_NIK not in stored
    assert "Siti" not in stored


def test_erasure_deletes_report_photos(
    head, citizen_user, personas, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    report = file_report(report_input(photo=png_photo()), citizen_user)
    photo_path = Path(report.photo.path)
    assert photo_path.exists()

    with django_capture_on_commit_callbacks(execute=True):
        result = privacy.erase_subject(head, actor=personas["admin"])

    assert result.photos_deleted == 1
    assert not Report.objects.get(pk=report.pk).photo
    assert not photo_path.exists()


def test_ledger_and_receipts_verify_after_erasure(
    spent_wallet, head, personas, django_capture_on_commit_callbacks
):
    seal_pending()
    before = verify_ledger(node_verifier())
    assert before.ok, before.problems

    with django_capture_on_commit_callbacks(execute=True):
        privacy.erase_subject(head, actor=personas["admin"])
    seal_pending()

    after = verify_ledger(node_verifier())
    assert after.ok, after.problems
    transfers = Transfer.objects.filter(
        debit_account=spent_wallet
    ) | Transfer.objects.filter(credit_account=spent_wallet)
    for transfer in transfers:
        result = verify_bundle(
            bundles.build_bundle(transfer.entry_seq), bundles.published_keys()
        )
        assert result.ok, (transfer.reference, result.reason)
        page = wallet_receipt_page(transfer.reference)
        assert page.status_code == 200
        assert HEAD_NAME not in page.content.decode()


def wallet_receipt_page(reference: str):
    from django.test import Client

    return Client().get(reverse("wallet:receipt", args=[reference]))


def test_erasure_journals_no_personal_data(spent_wallet, head, personas):
    privacy.erase_subject(head, actor=personas["admin"])

    [erased] = Entry.objects.filter(event_type="registry.member.erased")
    payload = json.loads(bytes(erased.body))["payload"]
    assert set(payload) == {
        "member_id",
        "household_id",
        "relation",
        "status",
        "details_hash",
    }
    scanner = Scanner([HEAD_NAME, "Rizky Pratama Jaya"])
    assert list(journal_findings(scanner)) == []


def test_erased_member_shows_no_data(spent_wallet, head, signed_in, personas):
    privacy.erase_subject(head, actor=personas["admin"])

    response = signed_in("registry_officer").get(
        reverse("registry:privacy_subject", args=[head.pk])
    )

    page = response.content.decode()
    assert "already been erased" in page
    assert HEAD_NAME not in page
    assert HEAD_NIK not in page
    assert HEAD_PHONE not in page


def test_erasure_of_member_without_account(head, personas):
    result = privacy.erase_subject(head, actor=personas["admin"])

    assert result.user_id is None
    assert result.photos_deleted == 0
    assert Member.objects.get(pk=head.pk).full_name == privacy.ERASED_NAME
