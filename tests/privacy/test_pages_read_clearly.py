"""What a registry officer and a payer see on the personal-data pages.

The NIK search keeps the number out of URLs, erased members read as a clear
placeholder, and the access log and data-subject page show words, not codes.
"""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from kotacerdas.accounts.models import AuditEvent
from kotacerdas.registry import privacy
from kotacerdas.registry.identity_access import (
    EXPORT_SCREEN,
    SCREEN_LABELS,
    SUBJECT_SCREEN,
    screen_label,
)
from kotacerdas.registry.models import ERASED_NAME, Member
from kotacerdas.wallet import display
from kotacerdas.wallet import services as wallet
from kotacerdas.wallet.models import Transfer, TransferKind

from .conftest import HEAD_NAME, HEAD_NIK

ERASED_LABEL = "(personal data erased)"


def identity_screens() -> list[str]:
    events = AuditEvent.objects.filter(kind=AuditEvent.Kind.IDENTITY_VIEWED)
    return [event.detail["view"] for event in events.order_by("id")]


# NIK search ----------------------------------------------------------------------


def test_lookup_form_posts_with_csrf_token(household, signed_in):
    response = signed_in("registry_officer").get(reverse("registry:privacy_index"))

    page = response.content.decode()
    assert 'method="post"' in page
    assert 'method="get"' not in page
    assert "csrfmiddlewaretoken" in page


def test_lookup_in_query_string_is_ignored(head, signed_in):
    client = signed_in("registry_officer")

    response = client.get(reverse("registry:privacy_index"), {"nik": HEAD_NIK})

    assert response.status_code == 200
    assert identity_screens() == []


def test_lookup_without_csrf_token_is_refused(head, personas):
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas["registry_officer"])

    response = client.post(reverse("registry:privacy_index"), {"nik": HEAD_NIK})

    assert response.status_code == 403


def test_lookup_with_csrf_token_opens_subject(head, personas):
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas["registry_officer"])
    client.get(reverse("registry:privacy_index"))
    token = client.cookies["csrftoken"].value

    response = client.post(
        reverse("registry:privacy_index"),
        {"nik": HEAD_NIK, "csrfmiddlewaretoken": token},
        follow=True,
    )

    assert response.status_code == 200
    assert [url for url, _status in response.redirect_chain] == [
        reverse("registry:privacy_subject", args=[head.pk])
    ]
    assert all(HEAD_NIK not in url for url, _status in response.redirect_chain)


def test_lookup_keeps_a_wrong_nik_for_correction(household, signed_in):
    response = signed_in("registry_officer").post(
        reverse("registry:privacy_index"), {"nik": "13740201019900x9"}
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "No household member has this NIK" in page
    assert 'value="13740201019900x9"' in page


# Erased names --------------------------------------------------------------------


@pytest.fixture
def paid_merchant(head_wallet, personas):
    """The head paid a merchant Rp 50.000; the wallet is empty again."""
    merchant = wallet.open_merchant(personas["merchant"], "Warung Nasi")
    wallet.top_up(head_wallet.number, 50_000, transfer_id="clear-topup-a")
    wallet.submit(
        wallet.TransferRequest(
            id="clear-pay-a",
            debit=head_wallet.number,
            credit=merchant.number,
            amount=50_000,
            kind=TransferKind.PAYMENT,
        )
    )
    return merchant


def test_receipt_after_erasure_shows_placeholder(
    paid_merchant, head_wallet, head, personas
):
    privacy.erase_subject(head, actor=personas["admin"])
    payment = Transfer.objects.get(debit_account=head_wallet, kind=TransferKind.PAYMENT)

    response = Client().get(reverse("wallet:receipt", args=[payment.reference]))

    page = response.content.decode()
    assert response.status_code == 200
    assert ERASED_LABEL in page
    assert "[*" not in page
    assert HEAD_NAME not in page


def test_receipt_before_erasure_masks_name(paid_merchant, head_wallet):
    payment = Transfer.objects.get(debit_account=head_wallet, kind=TransferKind.PAYMENT)

    page = Client().get(reverse("wallet:receipt", args=[payment.reference]))

    assert "S*** R******** P****" in page.content.decode()
    assert ERASED_LABEL not in page.content.decode()


def test_wallet_names_after_erasure(head_wallet, head, personas):
    privacy.erase_subject(head, actor=personas["admin"])
    head_wallet.refresh_from_db()

    assert display.holder_name(head_wallet) == ERASED_LABEL
    assert display.payee_name(head_wallet) == ERASED_LABEL


def test_wallet_of_erased_account_without_member(head_wallet, head, personas):
    privacy.erase_subject(head, actor=personas["admin"])
    head_wallet.refresh_from_db()
    head_wallet.member = None

    assert display.holder_name(head_wallet) == ERASED_LABEL
    assert display.payee_name(head_wallet) == ERASED_LABEL


def test_building_page_after_erasure(head, signed_in, personas):
    privacy.erase_subject(head, actor=personas["admin"])

    response = signed_in("registry_officer").get(
        reverse("registry:building_detail", args=[head.household.building_id])
    )

    page = response.content.decode()
    assert ERASED_NAME not in page
    assert HEAD_NAME not in page


@given(st.text(min_size=1, max_size=40))
def test_mask_name_never_masks_the_placeholder(name):
    masked = display.mask_name(name)

    if name == ERASED_NAME:
        assert masked == ERASED_LABEL
    else:
        assert ERASED_LABEL not in masked
        assert len(masked) <= len(name)


def test_placeholder_is_translated():
    with translation.override("id"):
        shown = Member(full_name=ERASED_NAME).display_name
    assert shown
    assert shown != ERASED_NAME
    assert Member(full_name=HEAD_NAME).display_name == HEAD_NAME


# Access log ----------------------------------------------------------------------


def test_page_and_download_record_distinct_screens(head, signed_in):
    client = signed_in("registry_officer")

    client.get(reverse("registry:privacy_subject", args=[head.pk]))
    client.get(reverse("registry:privacy_export", args=[head.pk]))

    assert identity_screens() == [SUBJECT_SCREEN, EXPORT_SCREEN]


def test_access_log_shows_readable_screens(head, signed_in):
    officer = signed_in("registry_officer")
    officer.get(reverse("registry:privacy_subject", args=[head.pk]))
    officer.get(reverse("registry:privacy_export", args=[head.pk]))
    officer.get(reverse("registry:building_detail", args=[head.household.building_id]))

    page = signed_in("auditor").get(reverse("registry:identity_view_log"))

    text = page.content.decode()
    assert "Personal data page" in text
    assert "Personal data download (JSON)" in text
    assert "Building page" in text
    assert "<code>registry:" not in text
    assert "IP address" in text


def test_access_log_capitalises_ip_header_in_indonesian(head, signed_in):
    client = signed_in("auditor")
    client.cookies["django_language"] = "id"

    with translation.override("id"):
        response = client.get(reverse("registry:identity_view_log"))

    assert "Alamat IP" in response.content.decode()


def test_every_recorded_screen_has_a_label():
    for view, label in SCREEN_LABELS.items():
        assert screen_label(view) == str(label)
        assert screen_label(view) != view
    assert screen_label("somewhere:unknown") == "somewhere:unknown"


# Data-subject page ---------------------------------------------------------------


def test_subject_page_shows_words_not_codes(
    paid_merchant, head, citizen_user, signed_in
):
    Member.objects.filter(pk=head.pk).update(sex=Member.Sex.FEMALE)

    response = signed_in("registry_officer").get(
        reverse("registry:privacy_subject", args=[head.pk])
    )

    page = response.content.decode()
    assert "<dd>Female</dd>" in page
    assert "<dd>Head of household</dd>" in page
    assert "<dd>Active</dd>" in page
    assert "<dd>Citizen</dd>" in page
    assert "balance Rp0," in page
    assert "Rp 0" not in page


def test_subject_page_indonesian_has_no_raw_codes(head, citizen_user, signed_in):
    Member.objects.filter(pk=head.pk).update(sex=Member.Sex.MALE)
    client = signed_in("registry_officer")
    client.cookies["django_language"] = "id"

    with translation.override("id"):
        response = client.get(reverse("registry:privacy_subject", args=[head.pk]))

    page = response.content.decode()
    for code in ("<dd>M</dd>", "<dd>head</dd>", "<dd>active</dd>", "<dd>citizen</dd>"):
        assert code not in page


# Home page -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "linked"),
    [("registry_officer", True), ("admin", True), ("citizen", False)],
)
def test_home_links_to_data_requests(persona, linked, signed_in):
    response = signed_in(persona).get(reverse("accounts:home"))

    assert (reverse("registry:privacy_index") in response.content.decode()) is linked
