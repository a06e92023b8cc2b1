"""The persona and permission matrix for every levy page and API operation.

Each URL of the `levy` namespace and each operation under /api/levy has a row
naming the personas that get through. Every other signed-in persona must get
403, and an anonymous visitor the sign-in page (pages) or 401 (API). The
first tests fail when a URL or an operation has no row, so a new page cannot
ship without its expectations. The citizen persona is linked to the billed
household; the waste bank teller also has `wallet.use_wallet` but no
household, so another household's bill is "not found" for her.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from kotacerdas.accounts.roles import ROLES
from kotacerdas.config.api import api
from kotacerdas.levy import billing, services
from kotacerdas.levy.models import Bill, BillingRun, Payment, Tariff

pytestmark = pytest.mark.django_db

PERSONAS = [role.name for role in ROLES] + ["outsider", "anonymous"]

# Who has which wallet permission, read off accounts.roles by hand so that a
# change of a role's rights shows up here as a failing row.
MANAGE = {"revenue_officer"}  # wallet.manage_levies
READ = MANAGE | {"auditor", "admin"}  # ... or wallet.view_all_accounts
COUNTER = {"cashier"}  # wallet.operate_counter
CITIZEN = {"citizen", "waste_bank_teller"}  # wallet.use_wallet


@dataclass(frozen=True)
class Row:
    """Who gets `ok`; everyone else signed in gets 403 unless in `special`."""

    allowed: set[str]
    ok: int = 200
    special: dict[str, int] = field(default_factory=dict)


PAGES: dict[str, Row] = {
    "report": Row(READ),
    "tariffs": Row(READ),
    "tariff_set": Row(MANAGE),
    "billing": Row(MANAGE),
    "billing_run": Row(READ),
    "arrears": Row(READ),
    "bill_list": Row(READ),
    "bill_export": Row(READ),
    "bill_detail": Row(READ),
    "bill_cancel": Row(MANAGE),
    "my_bills": Row(CITIZEN),
    "pay_bill": Row({"citizen"}, special={"waste_bank_teller": 404}),
    "counter": Row(COUNTER),
    "counter_pay": Row(COUNTER),
    "counter_receipt": Row(COUNTER),
}


def expected(row: Row, persona: str) -> int:
    if persona in row.special:
        return row.special[persona]
    return row.ok if persona in row.allowed else 403


def walk(patterns: list) -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns)
        elif isinstance(entry, URLPattern) and entry.name:
            yield entry.name, entry


def levy_patterns() -> dict[str, URLPattern]:
    _prefix, resolver = get_resolver().namespace_dict["levy"]
    return dict(walk(resolver.url_patterns))


def test_every_page_has_a_row():
    missing = sorted(set(levy_patterns()) - set(PAGES))

    assert not missing, f"add these levy pages to PAGES: {missing}"


def test_every_row_is_a_page():
    absent = sorted(set(PAGES) - set(levy_patterns()))

    assert not absent, f"these levy pages are not in the URLconf yet: {absent}"


@pytest.fixture
def objects(house, shop, personas, citizen_of) -> dict[str, object]:
    """A billed house whose household the citizen persona belongs to."""
    run = billing.run_billing("2026-12")
    citizen_of(house.household)
    bill = Bill.objects.get(household=house.household)
    payment = services.pay_at_counter(
        Bill.objects.get(building=shop.building), amount=1_000, transfer_id="c-1"
    )
    return {
        "bill_id": bill.pk,
        "run_id": run.pk,
        "payment_id": payment.pk,
        "file_format": "csv",
    }


def client_for(persona: str, personas) -> Client:
    client = Client()
    if persona != "anonymous":
        client.force_login(personas[persona])
    return client


@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_matrix(name, personas, objects):
    pattern = levy_patterns()[name]
    args = list(pattern.pattern.converters)
    url = reverse(f"levy:{name}", kwargs={arg: objects[arg] for arg in args})
    row = PAGES[name]

    wrong = []
    for persona in PERSONAS:
        response = client_for(persona, personas).get(url)
        if persona == "anonymous":
            if response.status_code != 302 or not response["Location"].startswith(
                "/login/"
            ):
                wrong.append(f"{name} as anonymous: {response.status_code}")
            continue
        if response.status_code != expected(row, persona):
            wrong.append(
                f"{name} as {persona}: {response.status_code}, "
                f"expected {expected(row, persona)}"
            )

    assert not wrong, "\n".join(wrong)


# Writes from a page, sent by everyone who may not make them.
WRITES = {
    "tariff_set": (
        MANAGE,
        {"levy_class": "RT-I", "monthly_amount": "1", "valid_from": "2027-01"},
    ),
    "billing": (MANAGE, {"month": "2026-11"}),
    "bill_cancel": (MANAGE, {"reason": "other"}),
    "pay_bill": (CITIZEN, {"amount": "1", "pin": "482915", "transfer_id": "w-1"}),
    "counter_pay": (COUNTER, {"amount": "1", "transfer_id": "w-2"}),
}


@pytest.mark.parametrize("name", sorted(WRITES))
def test_page_writes_rejected_for_others(name, personas, objects):
    allowed, data = WRITES[name]
    pattern = levy_patterns()[name]
    args = list(pattern.pattern.converters)
    url = reverse(f"levy:{name}", kwargs={arg: objects[arg] for arg in args})
    before = (
        Tariff.objects.count(),
        BillingRun.objects.count(),
        Payment.objects.count(),
        Bill.objects.filter(status="cancelled").count(),
    )

    statuses = {
        persona: client_for(persona, personas).post(url, data).status_code
        for persona in PERSONAS
        if persona not in allowed and persona != "anonymous"
    }

    assert set(statuses.values()) == {403}, statuses
    assert before == (
        Tariff.objects.count(),
        BillingRun.objects.count(),
        Payment.objects.count(),
        Bill.objects.filter(status="cancelled").count(),
    )


# The API ----------------------------------------------------------------------------


OPERATIONS: dict[tuple[str, str], Row] = {
    ("GET", "/api/levy/tariffs"): Row(READ),
    # An empty body passes the permission check and then fails validation,
    # which proves the caller got through.
    ("POST", "/api/levy/tariffs"): Row(MANAGE, ok=422),
    ("GET", "/api/levy/billing-runs"): Row(READ),
    ("POST", "/api/levy/billing-runs"): Row(MANAGE, ok=422),
    ("GET", "/api/levy/billing-runs/{run_id}"): Row(READ),
    # Citizens list their own household's bills; a cashier must name a bill
    # or a plate.
    ("GET", "/api/levy/bills"): Row(READ | CITIZEN, special={"cashier": 422}),
    ("GET", "/api/levy/bills/{bill_id}"): Row(
        READ | COUNTER | {"citizen"}, special={"waste_bank_teller": 404}
    ),
    ("POST", "/api/levy/bills/{bill_id}/payments"): Row(
        COUNTER | {"citizen"}, ok=422, special={"waste_bank_teller": 404}
    ),
    ("POST", "/api/levy/bills/{bill_id}/cancel"): Row(MANAGE, ok=422),
    ("GET", "/api/levy/report"): Row(READ),
}


def levy_operations() -> set[tuple[str, str]]:
    paths = api.get_openapi_schema()["paths"]
    return {
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith("/api/levy/")
        for method in operations
    }


def test_every_operation_has_a_row():
    missing = sorted(levy_operations() - set(OPERATIONS))
    absent = sorted(set(OPERATIONS) - levy_operations())

    assert not missing, f"add these API operations to OPERATIONS: {missing}"
    assert not absent, f"these API operations do not exist: {absent}"


@pytest.mark.parametrize(("method", "path"), sorted(OPERATIONS))
def test_api_matrix(method, path, personas, objects):
    row = OPERATIONS[(method, path)]
    url = path.format(bill_id=objects["bill_id"], run_id=objects["run_id"])

    wrong = []
    for persona in PERSONAS:
        client = client_for(persona, personas)
        response = client.generic(method, url, "{}", content_type="application/json")
        want = 401 if persona == "anonymous" else expected(row, persona)
        if response.status_code != want:
            wrong.append(
                f"{method} {path} as {persona}: {response.status_code}, expected {want}"
            )

    assert not wrong, "\n".join(wrong)
