"""The demo pilot's fee-bearing payments and the month's sharing statement."""

import random
import time

import pytest
from django.utils import timezone

from kotacerdas.demo import pilot_fees
from kotacerdas.demo import services as demo
from kotacerdas.demo.pilot import PILOT_SLUG, choose_kelurahan
from kotacerdas.journal import services as journal
from kotacerdas.pilot.models import Pilot
from kotacerdas.sharing import schedule, statement
from kotacerdas.wallet.models import Transfer, TransferKind

pytestmark = pytest.mark.django_db

SEED = 5
FEES = [
    {
        "code": "QRIS-UMI",
        "kind": "qr_mdr",
        "rate_bp": 30,
        "free_up_to": 500_000,
        "bearer": "merchant",
    },
    {"code": "TOPUP", "kind": "topup", "amount": 1_000, "bearer": "payer"},
    {"code": "CASHOUT", "kind": "cashout", "amount": 2_500, "bearer": "payer"},
    {"code": "LEVY-SERVICE", "kind": "levy_service", "amount": 1_000, "bearer": "city"},
]
START = "2025-01-01"


@pytest.fixture
def fee_city(city):
    rules = [
        {
            "valid_from": START,
            "city_bp": 4000,
            "partner_bp": 6000,
            "remainder_to": "city",
        }
    ]
    fees = [{**fee, "valid_from": START} for fee in FEES]
    city.settings = {
        **city.settings,
        **schedule.read_section({"fees": fees, "sharing": rules}),
    }
    city.save(update_fields=["settings"])
    demo.create_demo_city()
    demo.build_demo_registry("small", SEED)
    return city


def test_statement_has_every_fee_source(fee_city):
    demo.build_demo_activity(SEED, pilot=True)
    journal.seal_pending()

    month = timezone.localdate().replace(day=1)
    for party in ("city", "partner"):
        kinds = {line.fee_kind for line in statement.compute(month, party).revenue}
        assert kinds == {
            schedule.QR_MDR,
            schedule.TOPUP,
            schedule.CASHOUT,
            schedule.LEVY_SERVICE,
        }, party


def test_fee_activity_posts_dozens(fee_city):
    demo.build_demo_activity(SEED, pilot=False)
    pilot = Pilot.objects.filter(slug=PILOT_SLUG).first()
    assert pilot is None
    started = time.monotonic()
    activity = pilot_fees.post_fee_activity(choose_kelurahan(), random.Random(1))
    elapsed = time.monotonic() - started

    assert activity.rejected == 0
    assert activity.top_ups == pilot_fees.WALLETS
    assert activity.payments == (
        pilot_fees.SMALL_QR_PAYMENTS + pilot_fees.LARGE_QR_PAYMENTS
    )
    assert activity.cash_outs == pilot_fees.CASH_OUTS
    assert activity.levy_payments >= 1
    fees = Transfer.objects.filter(
        kind=TransferKind.FEE, client_id__startswith="demo-pilot-fee"
    )
    assert fees.count() >= 2 * activity.posted - 2 * pilot_fees.SMALL_QR_PAYMENTS
    assert elapsed < 10


def test_fee_activity_replays_same_ids(fee_city):
    """A second run with the same seed posts nothing new, because ids match."""
    demo.build_demo_activity(SEED, pilot=False)
    codes = choose_kelurahan()
    first = pilot_fees.post_fee_activity(codes, random.Random(7))
    count = Transfer.objects.count()

    again = pilot_fees.post_fee_activity(codes, random.Random(7))

    assert first.posted > 36
    assert again.rejected == 0
    assert Transfer.objects.count() == count
