"""The persona matrix for every wallet page of citizens, merchants and cashiers.

Each row names the personas that get through; every other signed-in persona
gets 403 and an anonymous visitor the sign-in page. The first test fails when
a page of `wallet.urls_pages` has no row, so a new page cannot ship without
its expectations.
"""

from dataclasses import dataclass, field

import pytest
from django.test import Client
from django.urls import reverse

from kotacerdas.accounts.roles import ROLES
from kotacerdas.wallet import urls_pages

pytestmark = pytest.mark.django_db

PERSONAS = [role.name for role in ROLES] + ["outsider"]

# Who holds which wallet permission, read off accounts.roles by hand so that a
# change of a role's rights shows up here as a failing row.
USE_WALLET = {"citizen", "waste_bank_teller"}
RECEIVE_PAYMENTS = {"merchant"}
OPERATE_COUNTER = {"cashier"}
MISSING_REFERENCE = "TRX-0000000000"


@dataclass(frozen=True)
class Row:
    allowed: set[str]
    ok: int = 200
    method: str = "get"
    kwargs: dict[str, str] = field(default_factory=dict)


PAGES: dict[str, Row] = {
    "home": Row(USE_WALLET),
    "pin": Row(USE_WALLET),
    "transfer": Row(USE_WALLET),
    "pay": Row(USE_WALLET),
    # Without a code the confirmation page shows the scan page again.
    "pay_confirm": Row(USE_WALLET),
    "done": Row(USE_WALLET, ok=404, kwargs={"reference": MISSING_REFERENCE}),
    # A merchant without an account sees the form to open one.
    "merchant": Row(RECEIVE_PAYMENTS),
    "merchant_open": Row(RECEIVE_PAYMENTS, ok=405),
    "merchant_qr": Row(RECEIVE_PAYMENTS, ok=302),
    "merchant_qr_status": Row(RECEIVE_PAYMENTS),
    "merchant_print": Row(RECEIVE_PAYMENTS, ok=302),
    "counter": Row(OPERATE_COUNTER),
    "counter_cash_in": Row(OPERATE_COUNTER),
    "counter_cash_out": Row(OPERATE_COUNTER),
    "counter_receipt": Row(
        OPERATE_COUNTER, ok=404, kwargs={"reference": MISSING_REFERENCE}
    ),
}


def page_names() -> set[str]:
    return {pattern.name for pattern in urls_pages.urlpatterns if pattern.name}


def test_every_page_has_a_row():
    assert page_names() == set(PAGES)


def cases() -> list:
    return [
        pytest.param(name, persona, id=f"{name}-{persona}")
        for name in PAGES
        for persona in PERSONAS
    ]


@pytest.mark.parametrize(("name", "persona"), cases())
def test_page_access(signed_in, name, persona):
    row = PAGES[name]
    url = reverse(f"wallet:{name}", kwargs=row.kwargs)

    response = getattr(signed_in(persona), row.method)(url)

    expected = row.ok if persona in row.allowed else 403
    assert response.status_code == expected


@pytest.mark.parametrize("name", sorted(PAGES))
def test_anonymous_goes_to_sign_in(city, name):
    row = PAGES[name]
    url = reverse(f"wallet:{name}", kwargs=row.kwargs)

    response = getattr(Client(), row.method)(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
