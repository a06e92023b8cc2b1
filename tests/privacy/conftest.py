"""Fixtures for personal-data tests: a household whose head has a wallet."""

import pytest
from django.utils import translation
from tests.registry.conftest import building_input

from kotacerdas.accounts.services import create_user
from kotacerdas.registry.models import Household, Member
from kotacerdas.registry.services import (
    MemberInput,
    link_member_user,
    register_building,
    register_household,
)
from kotacerdas.wallet import services as wallet
from kotacerdas.wallet.models import Account, AccountKind

HEAD_NIK = "1374024708950001"  # synthetic: Padang Panjang Barat, 7 Aug 1995
CHILD_NIK = "1374020512150002"
KK_NUMBER = "1374020101150003"
HEAD_NAME = "Siti Rahmawati Putri"
HEAD_PHONE = "081234567890"


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def household(city) -> Household:
    building = register_building(building_input())
    return register_household(
        building,
        KK_NUMBER,
        [
            MemberInput(HEAD_NAME, HEAD_NIK, "head", HEAD_PHONE),
            MemberInput("Rizky Pratama Jaya", CHILD_NIK, "child"),
        ],
    )


@pytest.fixture
def head(household) -> Member:
    return household.members.get(relation="head")


@pytest.fixture
def citizen_user(head):
    user = create_user("siti-citizen", "citizen-password-1", ["citizen"])
    user.first_name, user.last_name, user.email = "Siti", "Rahmawati", "siti@example.id"
    user.save()
    link_member_user(head, user)
    return user


@pytest.fixture
def head_wallet(head, citizen_user) -> Account:
    return wallet.open_account(AccountKind.CITIZEN, member=head, holder=citizen_user)
