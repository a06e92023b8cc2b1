"""The demo merchant lives in the demo pilot, so a pilot-only Wallet serves it."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kotacerdas.accounts.services import create_user
from kotacerdas.city.models import Area
from kotacerdas.demo.pilot import PILOT_SLUG
from kotacerdas.demo.pilot_merchant import place_demo_merchant
from kotacerdas.demo.wallets import MERCHANT_USERNAME
from kotacerdas.pilot import services_api as pilots
from kotacerdas.pilot.services import Scope, Service
from kotacerdas.wallet import services as wallet

pytestmark = pytest.mark.django_db

PILOT_AREAS = ["13.74.02.1006", "13.74.02.1002"]


@pytest.fixture
def merchant(city):
    user = create_user(MERCHANT_USERNAME, "merchant-password-1", ["merchant"])
    wallet.open_merchant(user, "Warung Demo", actor="test")
    return user


def start_demo_pilot() -> None:
    today = timezone.localdate()
    pilots.create_pilot(
        pilots.PilotInput(
            slug=PILOT_SLUG,
            name="Demo pilot",
            starts_on=today - timedelta(days=3),
            ends_on=today + timedelta(days=30),
            services=[Service.WALLET],
            areas=PILOT_AREAS,
        )
    )
    pilots.set_scope(Service.WALLET, Scope.PILOT_AREAS)


def test_merchant_placed_in_pilot(merchant):
    start_demo_pilot()
    client = Client()
    client.force_login(merchant)

    before = client.get(reverse("wallet:merchant"))
    code = place_demo_merchant()
    after = client.get(reverse("wallet:merchant"))
    merchant.refresh_from_db()

    assert before.status_code == 403
    assert code == "13.74.02.1002"
    assert merchant.kelurahan is not None
    assert merchant.kelurahan.code == code
    assert after.status_code == 200


def test_merchant_with_kelurahan_kept(merchant):
    merchant.kelurahan = Area.objects.get(code="13.74.01.1001")
    merchant.save()
    start_demo_pilot()

    code = place_demo_merchant()
    merchant.refresh_from_db()

    assert code == "13.74.01.1001"
    assert merchant.kelurahan.code == "13.74.01.1001"


def test_no_pilot_leaves_merchant(merchant):
    assert place_demo_merchant() is None
    merchant.refresh_from_db()
    assert merchant.kelurahan is None
