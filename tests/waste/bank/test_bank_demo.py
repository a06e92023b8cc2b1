"""The demo city's seven waste banks."""

import random

from kotacerdas.accounts.services import create_user
from kotacerdas.wallet import services as wallet
from kotacerdas.waste.bank import demo
from kotacerdas.waste.bank.models import Deposit, Unit


def test_seed_opens_seven_units_with_credits(city):
    teller = create_user("teller", "persona-password-1", ["waste_bank_teller"])
    for serial in range(3):
        user = create_user(f"warga-{serial}", "persona-password-1", ["citizen"])
        wallet.wallet_for(user)

    summary = demo.seed(random.Random(7), members_per_unit=2)

    assert summary.units == 7
    assert summary.members == 14
    assert Unit.objects.get(code="sarunai").kind == "bsi"
    assert set(Unit.objects.values_list("tellers", flat=True)) == {teller.pk}
    posted = Deposit.objects.filter(status=Deposit.Status.POSTED)
    assert posted.exists()
    assert demo.seed(random.Random(7)).units == 0
