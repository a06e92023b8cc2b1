"""The demo city's wallets: funded, with history, verifiable."""

import pytest

from kotacerdas.accounts.services import create_user
from kotacerdas.demo import services as demo
from kotacerdas.demo.wallets import build_demo_wallets
from kotacerdas.journal import services as journal
from kotacerdas.journal.keys import node_verifier
from kotacerdas.journal.verify import verify_ledger
from kotacerdas.wallet import pins, services
from kotacerdas.wallet.models import Account, AccountKind, Transfer

pytestmark = pytest.mark.django_db
SEED = 21


@pytest.fixture
def built(city):
    citizen = create_user(demo.CITIZEN_USERNAME, "citizen-password-1", ["citizen"])
    create_user("merchant", "merchant-password-1", ["merchant"])
    demo.build_demo_registry("small", SEED)
    return citizen, build_demo_wallets(SEED)


def test_demo_opens_wallets_and_merchants(built):
    _citizen, summary = built
    assert summary.wallets > 20
    assert (
        Account.objects.filter(kind=AccountKind.CITIZEN).count() == summary.wallets + 1
    )
    assert (
        Account.objects.filter(kind=AccountKind.MERCHANT).count() == summary.merchants
    )


def test_demo_citizen_has_history_and_pin(built):
    citizen, _summary = built
    wallet = services.wallet_for(citizen, open_if_missing=False)
    assert wallet is not None
    assert wallet.tier == "registered"
    assert Transfer.objects.filter(credit_account=wallet).exists()
    assert wallet.balance > 0
    pins.check_pin(citizen, demo.DEMO_PIN)


def test_demo_pays_waste_bank_credits(built):
    credits = Transfer.objects.filter(kind="waste_bank_credit")
    assert credits.count() >= 2
    waste_bank = Account.objects.get(code="waste_bank")
    assert waste_bank.balance == 0


def test_demo_money_balances_and_verifies(built):
    _citizen, summary = built
    assert summary.transfers > summary.wallets
    settlement = services.settlement_account()
    others = sum(a.balance for a in Account.objects.exclude(pk=settlement.pk))
    assert others == -settlement.balance
    journal.seal_pending()
    assert verify_ledger(node_verifier()).ok


def test_demo_is_deterministic_in_counts(city):
    create_user(demo.CITIZEN_USERNAME, "citizen-password-1", ["citizen"])
    demo.build_demo_registry("small", SEED)
    first = build_demo_wallets(SEED)
    assert first.wallets == Account.objects.filter(member__isnull=False).count() - 1


def test_demo_bills_month_and_pays_part(built):
    from kotacerdas.demo.levies import build_demo_levies
    from kotacerdas.levy.models import Bill

    citizen, _summary = built
    levies = build_demo_levies(SEED)
    assert levies.billed == Bill.objects.count()
    assert levies.billed > 20
    assert 0 < levies.paid + levies.partly_paid < levies.billed
    household = citizen.member.household
    assert Bill.objects.filter(household=household, paid_amount=0).exists()
    journal.seal_pending()
    assert verify_ledger(node_verifier()).ok
