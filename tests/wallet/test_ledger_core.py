"""The double-entry core: transfers, idempotency, two-phase, links, limits."""

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from tests.wallet.conftest import fund, new_id

from kotacerdas.journal.keys import node_verifier
from kotacerdas.journal.models import Entry
from kotacerdas.journal.verify import verify_ledger
from kotacerdas.wallet import services
from kotacerdas.wallet.models import Account, Transfer
from kotacerdas.wallet.services import TransferRejected, TransferRequest


def pay(debit, credit, amount, kind="transfer", **extra) -> TransferRequest:
    return TransferRequest(
        id=extra.pop("id", None) or new_id(),
        debit=debit.number,
        credit=credit.number,
        amount=amount,
        kind=kind,
        **extra,
    )


def reload(*accounts):
    return [Account.objects.get(pk=a.pk) for a in accounts]


@pytest.mark.django_db
def test_transfer_moves_money(alice, bob, settlement):
    fund(alice, 100_000)
    services.submit(pay(alice, bob, 30_000))
    alice, bob, settlement = reload(alice, bob, settlement)
    assert alice.balance == 70_000
    assert bob.balance == 30_000
    assert settlement.balance == -100_000


@pytest.mark.django_db
def test_same_id_same_body_returns_original(alice, bob):
    fund(alice, 50_000)
    request = pay(alice, bob, 10_000)
    first = services.submit(request)
    again = services.submit(request)
    assert again.pk == first.pk
    assert reload(alice)[0].balance == 40_000


@pytest.mark.django_db
def test_same_id_other_body_rejected(alice, bob):
    fund(alice, 50_000)
    request = pay(alice, bob, 10_000)
    services.submit(request)
    with pytest.raises(TransferRejected) as caught:
        services.submit(pay(alice, bob, 11_000, id=request.id))
    assert caught.value.code == "id_conflict"
    assert caught.value.field == "id"


@pytest.mark.django_db
def test_overdraft_rejected_and_nothing_written(alice, bob):
    fund(alice, 5_000)
    count = Transfer.objects.count()
    with pytest.raises(TransferRejected) as caught:
        services.submit(pay(alice, bob, 5_001))
    assert caught.value.code == "exceeds_balance"
    assert Transfer.objects.count() == count


@pytest.mark.django_db
def test_unregistered_balance_cap(bob):
    with pytest.raises(TransferRejected) as caught:
        fund(bob, 2_000_001)
    assert caught.value.code == "exceeds_balance_cap"
    assert "2,000,000" in caught.value.message


@pytest.mark.django_db
def test_registered_monthly_cap(alice, bob, shop):
    for _ in range(2):
        fund(alice, 19_000_000)
        services.submit(pay(alice, bob, 1_000_000))
        services.submit(pay(alice, shop, 18_000_000, kind="payment"))
    with pytest.raises(TransferRejected) as caught:
        fund(alice, 2_000_001)
    assert caught.value.code == "exceeds_monthly_cap"


@pytest.mark.django_db
def test_two_phase_partial_post(alice, shop):
    fund(alice, 100_000)
    reserve = pay(alice, shop, 60_000, kind="payment", pending=True)
    services.submit(reserve)
    alice_now = reload(alice)[0]
    assert alice_now.available == 40_000
    services.post_pending(id=new_id(), pending_id=reserve.id, amount=45_000)
    alice_now, shop_now = reload(alice, shop)
    assert alice_now.balance == 55_000
    assert alice_now.debits_pending == 0
    assert shop_now.balance == 45_000
    assert Transfer.objects.get(client_id=reserve.id).status == "posted"


@pytest.mark.django_db
def test_void_releases_reservation(alice, shop):
    fund(alice, 100_000)
    reserve = pay(alice, shop, 60_000, kind="payment", pending=True)
    services.submit(reserve)
    services.void_pending(id=new_id(), pending_id=reserve.id)
    assert reload(alice)[0].available == 100_000
    with pytest.raises(TransferRejected) as caught:
        services.post_pending(id=new_id(), pending_id=reserve.id)
    assert caught.value.code == "pending_not_pending"


@pytest.mark.django_db
def test_timeout_expires_reservation(alice, shop):
    from datetime import timedelta

    from django.utils import timezone

    fund(alice, 100_000)
    reserve = pay(alice, shop, 60_000, kind="payment", pending=True, timeout_s=60)
    services.submit(reserve)
    assert services.expire_pending(timezone.now()) == 0
    assert services.expire_pending(timezone.now() + timedelta(seconds=61)) == 1
    assert Transfer.objects.get(client_id=reserve.id).status == "expired"
    assert reload(alice)[0].available == 100_000


@pytest.mark.django_db
def test_linked_fail_together(alice, shop, city):
    fees = services.fees_account()
    fund(alice, 10_000)
    with pytest.raises(TransferRejected):
        services.submit_linked(
            [
                pay(alice, shop, 9_000, kind="payment"),
                pay(alice, fees, 1_500, kind="fee"),
            ]
        )
    assert reload(alice)[0].balance == 10_000
    services.submit_linked(
        [pay(alice, shop, 9_000, kind="payment"), pay(alice, fees, 1_000, kind="fee")]
    )
    assert reload(alice)[0].balance == 0


@pytest.mark.django_db
def test_database_rejects_negative_wallet(alice):
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=alice.pk).update(debits_posted=1)


@pytest.mark.django_db
def test_closed_loop_blocks_p2p(alice, bob, city):
    city.settings["wallet"]["mode"] = "closed_loop"
    city.save()
    fund(alice, 10_000)
    with pytest.raises(TransferRejected) as caught:
        services.submit(pay(alice, bob, 1_000))
    assert caught.value.code == "flow_not_allowed"


@pytest.mark.django_db
def test_batch_reports_each_result(alice, bob):
    fund(alice, 10_000)
    results = services.submit_batch(
        [pay(alice, bob, 6_000), pay(alice, bob, 6_000), pay(alice, bob, 4_000)]
    )
    assert [r.error.code if r.error else "ok" for r in results] == [
        "ok",
        "exceeds_balance",
        "ok",
    ]
    assert reload(bob)[0].balance == 10_000


@pytest.mark.django_db
def test_verify_recomputes_balances(alice, bob, shop):
    fund(alice, 100_000)
    services.submit(pay(alice, bob, 10_000))
    reserve = pay(alice, shop, 20_000, kind="payment", pending=True)
    services.submit(reserve)
    services.post_pending(id=new_id(), pending_id=reserve.id, amount=5_000)
    call_command("ledger", "seal")
    assert verify_ledger(node_verifier()).ok
    Account.objects.filter(pk=bob.pk).update(credits_posted=10_500)
    report = verify_ledger(node_verifier())
    assert not report.ok
    assert any("wallet account" in p and "credits_posted" in p for p in report.problems)
    assert Entry.objects.filter(event_type="wallet.transfer.posted").count() >= 3


@pytest.mark.django_db
def test_cap_message_hides_payee_balance(alice, bob):
    fund(alice, 1_000_000)
    fund(bob, 1_500_000)
    with pytest.raises(TransferRejected) as caught:
        services.submit(pay(alice, bob, 600_000))
    assert caught.value.code == "exceeds_balance_cap"
    assert "2,100,000" not in caught.value.message
    assert "1,500,000" not in caught.value.message
    assert "2,000,000" in caught.value.message
