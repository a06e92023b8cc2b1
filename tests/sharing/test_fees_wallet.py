"""Fees posted with wallet transfers: linked parts, journal events and receipts."""

import itertools
import json
import random
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone, translation

from kotacerdas.journal.keys import node_verifier
from kotacerdas.journal.models import Entry
from kotacerdas.journal.verify import verify_ledger
from kotacerdas.sharing import schedule, split
from kotacerdas.wallet import fees, flows, receipts, services
from kotacerdas.wallet.models import Account, AccountKind, Tier, Transfer
from kotacerdas.wallet.services import TransferRejected, TransferRequest

pytestmark = pytest.mark.django_db

_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def today():
    return timezone.localdate()


def demo_fees(levy_bearer="city", days_ago=30):
    """The demo profile's fees, in force since `days_ago` days."""
    valid_from = (today() - timedelta(days=days_ago)).isoformat()
    return [
        {
            "code": "QRIS-UMI",
            "kind": "qr_mdr",
            "rate_bp": 30,
            "free_up_to": 500_000,
            "bearer": "merchant",
            "valid_from": valid_from,
        },
        {
            "code": "TOPUP",
            "kind": "topup",
            "amount": 1_000,
            "bearer": "payer",
            "valid_from": valid_from,
        },
        {
            "code": "CASHOUT",
            "kind": "cashout",
            "amount": 2_500,
            "bearer": "payer",
            "valid_from": valid_from,
        },
        {
            "code": "LEVY-SERVICE",
            "kind": "levy_service",
            "amount": 1_000,
            "bearer": levy_bearer,
            "valid_from": valid_from,
        },
    ]


def rule(days_ago=30, city_bp=4000, remainder_to="city"):
    return {
        "valid_from": (today() - timedelta(days=days_ago)).isoformat(),
        "city_bp": city_bp,
        "partner_bp": 10_000 - city_bp,
        "remainder_to": remainder_to,
    }


def set_schedule(city, fee_entries, rules):
    city.settings = {
        **city.settings,
        **schedule.read_section({"fees": fee_entries, "sharing": rules}),
    }
    city.save(update_fields=["settings"])


@pytest.fixture
def with_fees(city):
    set_schedule(city, demo_fees(), [rule()])
    return city


def new_id(prefix="t"):
    return f"{prefix}-{next(_ids)}"


def fund(account, amount):
    """Credit an account with no fee, as a top-up before the schedule starts."""
    services.submit_linked(
        [
            TransferRequest(
                id=new_id("fund"),
                debit=services.settlement_account().number,
                credit=account.number,
                amount=amount,
                kind="topup",
                channel="counter",
            )
        ]
    )


def balance(account):
    return Account.objects.get(pk=account.pk).balance


def fee_balances():
    return balance(fees.fee_account("city")), balance(fees.fee_account("partner"))


def fee_events():
    return [
        json.loads(bytes(entry.body))["payload"]
        for entry in Entry.objects.filter(event_type="wallet.fee.charged").order_by(
            "seq"
        )
    ]


@pytest.fixture
def alice(city):
    return services.open_account(AccountKind.CITIZEN, tier=Tier.REGISTERED)


@pytest.fixture
def shop(city):
    return services.open_account(AccountKind.MERCHANT, label="Warung Contoh")


def pay(payer, merchant, amount, transfer_id=None):
    return services.submit(
        TransferRequest(
            id=transfer_id or new_id("pay"),
            debit=payer.number,
            credit=merchant.number,
            amount=amount,
            kind="payment",
            channel="qris",
        )
    )


# Each flow ------------------------------------------------------------------------


def test_qr_payment_fee_from_merchant(with_fees, alice, shop):
    fund(alice, 2_000_000)

    payment = pay(alice, shop, 600_000, "pay-qr-1")

    assert balance(alice) == 2_000_000 - 600_000
    assert balance(shop) == 600_000 - 1_800
    assert fee_balances() == (720, 1_080)
    parts = Transfer.objects.filter(link_group="pay-qr-1", kind="fee").order_by("id")
    assert [(p.client_id, p.debit_account_id, p.amount, p.memo) for p in parts] == [
        ("pay-qr-1:fee-city", shop.pk, 720, "QRIS-UMI"),
        ("pay-qr-1:fee-partner", shop.pk, 1_080, "QRIS-UMI"),
    ]
    assert payment.link_group == "pay-qr-1"
    [event] = fee_events()
    assert event["payment_client_id"] == "pay-qr-1"
    assert (event["fee_code"], event["fee_rate_bp"], event["fee_amount"]) == (
        "QRIS-UMI",
        30,
        1_800,
    )
    assert (event["city_bp"], event["partner_bp"], event["remainder_to"]) == (
        4000,
        6000,
        "city",
    )
    assert event["sharing_valid_from"] == (today() - timedelta(days=30)).isoformat()
    assert event["bearer_account_id"] == shop.pk


def test_small_qr_payment_posts_no_fee(with_fees, alice, shop):
    fund(alice, 600_000)

    payment = pay(alice, shop, 500_000)

    assert payment.link_group == ""
    assert balance(shop) == 500_000
    assert Transfer.objects.filter(kind="fee").count() == 0
    assert fee_events() == []


def test_dynamic_qr_payment_claims_bill_once(with_fees, alice, shop):
    fund(alice, 2_000_000)
    payload = flows.merchant_payload(shop, amount=700_000, bill_number="INV-7")
    code = flows.read_code(payload)
    request = flows.payment_request(alice, shop, code, 700_000, "pay-bill-7")

    flows.pay_merchant(request, code, "user:1")
    again = flows.pay_merchant(request, code, "user:1")

    assert again.client_id == "pay-bill-7"
    assert balance(shop) == 700_000 - 2_100
    assert sum(fee_balances()) == 2_100
    assert len(fee_events()) == 1


def test_topup_fee_from_wallet(with_fees, alice):
    services.top_up(alice.number, 50_000, transfer_id="va-1", channel="bank_va")

    assert balance(alice) == 49_000
    assert fee_balances() == (400, 600)
    assert fee_events()[0]["bearer"] == "payer"


def test_cashout_fee_from_wallet(with_fees, alice):
    fund(alice, 20_000)

    services.submit(flows.cash_out_request(alice, 10_000, "out-1"))

    assert balance(alice) == 20_000 - 10_000 - 2_500
    assert fee_balances() == (1_000, 1_500)


def test_levy_fee_borne_by_city(with_fees, alice):
    fund(alice, 20_000)
    revenue = services.revenue_account("waste_levy")

    services.submit(levy_request(alice, revenue, 7_500, "levy-1"))

    assert balance(alice) == 20_000 - 7_500
    assert balance(revenue) == 7_500 - 1_000
    assert fee_balances() == (400, 600)
    assert fee_events()[0]["bearer_account_id"] == revenue.pk


def test_levy_fee_borne_by_payer(city, alice):
    set_schedule(city, demo_fees(levy_bearer="payer"), [rule()])
    fund(alice, 20_000)
    revenue = services.revenue_account("waste_levy")

    services.submit(levy_request(alice, revenue, 7_500, "levy-1"))

    assert balance(alice) == 20_000 - 7_500 - 1_000
    assert balance(revenue) == 7_500


def test_levy_cash_at_counter_bears_no_fee(with_fees):
    revenue = services.revenue_account("waste_levy")
    settlement = services.settlement_account()

    services.submit(levy_request(settlement, revenue, 7_500, "levy-cash-1"))

    assert balance(revenue) == 7_500
    assert fee_events() == []


def test_transfer_between_citizens_bears_no_fee(with_fees, alice):
    bob = services.open_account(AccountKind.CITIZEN, tier=Tier.REGISTERED)
    fund(alice, 20_000)

    services.submit(flows.transfer_request(alice, bob.number, 5_000, "", "p2p-1"))

    assert (balance(alice), balance(bob)) == (15_000, 5_000)
    assert fee_events() == []


def levy_request(payer, revenue, amount, transfer_id):
    return TransferRequest(
        id=transfer_id,
        debit=payer.number,
        credit=revenue.number,
        amount=amount,
        kind="levy",
        channel="app" if payer.kind != "settlement" else "counter",
        memo="RTB-2026-12-0001",
    )


# Refusals and retries ---------------------------------------------------------------


def test_short_of_amount_and_fee_writes_nothing(with_fees, alice):
    fund(alice, 12_000)
    fee_balances()  # Opens the fee accounts, which journals their opening.
    entries_before = Entry.objects.count()

    with pytest.raises(TransferRejected) as caught:
        services.submit(flows.cash_out_request(alice, 10_000, "out-1"))

    assert caught.value.code == "exceeds_balance"
    assert caught.value.field == "amount"
    assert caught.value.message == (
        "The balance is not enough for Rp10,000 plus the fee of Rp2,500: "
        "Rp12,000 is available."
    )
    assert balance(alice) == 12_000
    assert not Transfer.objects.filter(client_id__startswith="out-1").exists()
    assert Entry.objects.count() == entries_before
    assert fee_balances() == (0, 0)


def test_topup_below_fee_rejected(with_fees, alice):
    with pytest.raises(TransferRejected) as caught:
        services.top_up(alice.number, 500, transfer_id="va-small", channel="bank_va")

    assert caught.value.message == (
        "The top-up of Rp500 does not cover its fee of Rp1,000. Top up a larger amount."
    )
    assert balance(alice) == 0
    assert not Transfer.objects.filter(client_id__startswith="va-small").exists()


def test_balance_cap_counts_topup_before_fee(with_fees, city):
    small = services.open_account(AccountKind.CITIZEN, tier=Tier.UNREGISTERED)

    with pytest.raises(TransferRejected) as caught:
        services.top_up(small.number, 2_000_001, transfer_id="va-cap")
    services.top_up(small.number, 2_000_000, transfer_id="va-cap-2")

    assert caught.value.code == "exceeds_balance_cap"
    assert balance(small) == 2_000_000 - 1_000


def test_retry_posts_fee_once(with_fees, alice, shop):
    fund(alice, 2_000_000)

    first = pay(alice, shop, 600_000, "pay-retry")
    second = pay(alice, shop, 600_000, "pay-retry")

    assert first.pk == second.pk
    assert Transfer.objects.filter(link_group="pay-retry").count() == 3
    assert len(fee_events()) == 1
    assert balance(shop) == 600_000 - 1_800


def test_retry_after_schedule_change_returns_stored(with_fees, city, alice, shop):
    fund(alice, 2_000_000)
    pay(alice, shop, 600_000, "pay-change")
    set_schedule(city, [], [rule()])

    again = pay(alice, shop, 600_000, "pay-change")

    assert again.client_id == "pay-change"
    assert balance(shop) == 600_000 - 1_800
    assert len(fee_events()) == 1


def test_same_id_other_amount_rejected(with_fees, alice, shop):
    fund(alice, 2_000_000)
    pay(alice, shop, 600_000, "pay-conflict")

    with pytest.raises(TransferRejected) as caught:
        pay(alice, shop, 700_000, "pay-conflict")

    assert caught.value.code == "id_conflict"
    assert len(fee_events()) == 1


def test_long_transfer_id_gets_hashed_fee_ids(with_fees, alice, shop):
    fund(alice, 2_000_000)
    long_id = "pay-" + "x" * 60

    pay(alice, shop, 600_000, long_id)

    [event] = fee_events()
    assert event["city_client_id"].startswith("fee-city:")
    assert len(event["city_client_id"]) <= 64
    assert Transfer.objects.filter(link_group=long_id).count() == 3


# Dated rules --------------------------------------------------------------------------


def test_rule_dated_tomorrow_keeps_todays_split(city, alice, shop):
    tomorrow_rule = {**rule(), "valid_from": (today() + timedelta(days=1)).isoformat()}
    tomorrow_rule.update(city_bp=9000, partner_bp=1000)
    set_schedule(city, demo_fees(), [rule(), tomorrow_rule])
    fund(alice, 2_000_000)

    pay(alice, shop, 600_000, "pay-today")
    request = TransferRequest(
        id="later", debit=alice.number, credit=shop.number, amount=600_000,
        kind="payment",
    )  # fmt: skip
    plan_tomorrow = fees.plan_fee(request, today() + timedelta(days=1))

    assert fee_balances() == (720, 1_080)
    assert plan_tomorrow is not None
    assert (plan_tomorrow.event.city_amount, plan_tomorrow.event.partner_amount) == (
        1_620,
        180,
    )


def test_past_splits_never_change(city, alice, shop):
    set_schedule(city, demo_fees(), [rule()])
    fund(alice, 2_000_000)
    pay(alice, shop, 600_000, "pay-before")
    before = list(Transfer.objects.filter(kind="fee").values_list("id", "amount"))

    new_rule = {**rule(days_ago=-1), "city_bp": 1000, "partner_bp": 9000}
    set_schedule(city, demo_fees(), [rule(), new_rule])

    assert list(Transfer.objects.filter(kind="fee").values_list("id", "amount")) == (
        before
    )
    assert fee_events()[0]["city_amount"] == 720
    assert fee_balances() == (720, 1_080)


def test_fee_before_schedule_starts_is_none(city, alice, shop):
    set_schedule(city, demo_fees(days_ago=-1), [rule(days_ago=-1)])
    fund(alice, 2_000_000)

    pay(alice, shop, 600_000)

    assert fee_events() == []
    assert balance(shop) == 600_000


# A month of fees ------------------------------------------------------------------------


def test_month_of_fees_splits_exactly(city, alice, shop):
    # A 33.33% city share makes almost every split leave a remainder.
    set_schedule(city, demo_fees(), [rule(city_bp=3333)])
    generator = random.Random(20261205)
    fund(alice, 19_000_000)
    collected = 0

    for number in range(40):
        amount = generator.randrange(400_000, 3_000_000)
        if number % 4 == 0:
            services.top_up(alice.number, amount, transfer_id=f"va-{number}")
            collected += 1_000
        elif number % 4 == 1 and balance(alice) > amount + 2_500:
            services.submit(flows.cash_out_request(alice, amount, f"out-{number}"))
            collected += 2_500
        elif balance(alice) > amount:
            pay(alice, shop, amount, f"pay-{number}")
            collected += amount * 30 // 10_000 if amount > 500_000 else 0

    events = fee_events()
    city_part, partner_part = fee_balances()
    assert len(events) >= 20
    assert city_part + partner_part == collected
    assert sum(e["fee_amount"] for e in events) == collected
    assert sum(e["city_amount"] for e in events) == city_part
    assert sum(e["partner_amount"] for e in events) == partner_part
    for event in events:
        assert event["partner_amount"] == event["fee_amount"] * 6667 // 10_000
        assert event["city_amount"] == event["fee_amount"] - event["partner_amount"]
    assert any(e["fee_amount"] * 3333 % 10_000 for e in events)


def test_events_recompute_the_split(with_fees, alice, shop):
    fund(alice, 5_000_000)
    for number, amount in enumerate((600_001, 777_777, 1_234_567)):
        pay(alice, shop, amount, f"pay-{number}")

    for event in fee_events():
        rule_of_event = schedule.SharingRule(
            valid_from=timezone.datetime.fromisoformat(
                event["sharing_valid_from"]
            ).date(),
            city_bp=event["city_bp"],
            partner_bp=event["partner_bp"],
            remainder_to=event["remainder_to"],
        )
        parts = split.split_fee(event["fee_amount"], rule_of_event)
        assert (parts.city_rupiah, parts.partner_rupiah) == (
            event["city_amount"],
            event["partner_amount"],
        )
        assert event["fee_amount"] == event["payment_amount"] * 30 // 10_000


# Receipts and the ledger -------------------------------------------------------------------


def test_receipt_shows_fee_and_payer(with_fees, alice, shop):
    fund(alice, 2_000_000)
    payment = pay(alice, shop, 600_000)

    receipt = receipts.build_receipt(payment)

    assert receipt.fee == 1_800
    assert receipt.fee_payer is not None
    assert receipt.fee_payer.name == "Warung Contoh"


def test_receipt_page_shows_fee(with_fees, alice, client):
    services.top_up(alice.number, 50_000, transfer_id="va-page")
    reference = Transfer.objects.get(client_id="va-page").reference

    page = client.get(flows.receipt_url(reference), HTTP_ACCEPT_LANGUAGE="en")

    assert page.status_code == 200
    assert "Rp1,000 · paid by" in page.content.decode()


def test_receipt_without_fee_shows_none(city, alice, shop):
    fund(alice, 2_000_000)

    receipt = receipts.build_receipt(pay(alice, shop, 600_000))

    assert receipt.fee == 0
    assert receipt.fee_payer is None


def test_ledger_verifies_with_fees(with_fees, alice, shop):
    fund(alice, 2_000_000)
    pay(alice, shop, 600_000)
    services.top_up(alice.number, 50_000, transfer_id="va-verify")
    call_command("ledger", "seal")

    assert verify_ledger(node_verifier()).ok


def test_counter_cash_in_shows_fee(with_fees, signed_in):
    cashier = signed_in("cashier")
    cashier.cookies["django_language"] = "en"
    wallet = services.open_account(AccountKind.CITIZEN, tier=Tier.REGISTERED)
    url = "/wallet/counter/cash-in/"
    review = cashier.post(url, {"number": wallet.number, "amount": "50000"})
    hidden = dict(
        re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', review.text)
    )
    hidden.pop("csrfmiddlewaretoken", None)

    done = cashier.post(url, hidden)
    page = cashier.get(done["Location"]).text

    assert done.status_code == 302
    assert balance(wallet) == 49_000
    assert 'data-testid="receipt-amount">Rp50,000<' in page
    assert 'data-testid="receipt-fee">Rp1,000, paid from the wallet<' in page
