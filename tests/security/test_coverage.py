"""Every URL and API operation has a persona x permission row, and every row holds.

The tables below name, for each URL pattern (by namespaced name) and each
OpenAPI operation, the personas that get through. Every other signed-in
persona must get 403 (or 404 where the row marks the object hidden), and an
anonymous visitor the sign-in page (pages) or 401 (API). Namespaces with
their own matrix test are listed in ELSEWHERE and checked against that test's
table. The completeness tests fail when a new URL or operation appears in no
table, so a new page cannot ship without its expectations.
"""

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pytest

from .conftest import PERSONAS, DemoCity
from .routes import admin_routes, api_operations, page_routes

TESTS = Path(__file__).resolve().parent.parent

# Role sets read off accounts/roles.py by hand, so that a change of a role's
# rights shows up here as a failing row.
DASHBOARD = {"admin", "auditor", "command_center"}  # command.view_dashboard
WASTE_VIEW = DASHBOARD | {"waste_operator"}  # waste.view_*
OPERATOR = {"waste_operator"}  # waste.manage_places, plan_routes, review_pickup
WALLET_USERS = {"citizen", "waste_bank_teller"}  # wallet.use_wallet
ALL_ACCOUNTS = {"admin", "revenue_officer", "auditor"}  # wallet.view_all_accounts
RECONCILE = {"revenue_officer"}
COUNTER = {"cashier"}
MERCHANT = {"merchant"}
TELLER = {"waste_bank_teller"}
COLLECTOR = {"collector"}
CITIZEN = {"citizen"}
SIGNED_IN = {persona for persona in PERSONAS if persona != "anonymous"}
EVERYONE = set(PERSONAS)
ADMIN = {"admin"}  # pilot.manage_pilot, sharing.record_cost
SHARING_READ = {"admin", "revenue_officer", "auditor"}  # sharing.view_statement
TRIAL_REPORT = {"admin", "auditor", "command_center"}  # pilot.view_trial_report

LOGIN = "login"  # anonymous: a redirect to the sign-in page
UNAUTHORIZED = "401"  # anonymous: 401, for machine-readable endpoints


@dataclass(frozen=True)
class Row:
    """Who gets through, with which statuses, and what the others get."""

    allowed: set[str]
    ok: frozenset[int] = frozenset({200})
    method: str = "get"
    # Other signed-in personas get 404 instead of 403: the object is theirs only.
    hidden: bool = False
    anonymous: str = LOGIN
    # Personas whose status differs from the rule, with the status they get.
    special: dict[str, int] = field(default_factory=dict)


def public(*ok: int) -> Row:
    return Row(EVERYONE, ok=frozenset(ok or {200}))


PAGES: dict[str, Row] = {
    # Public pages: the ledger, receipts (the random reference is the
    # capability), health probes and language switching.
    "favicon.ico": public(302),
    "set_language": public(302),
    "accounts:login": public(),
    # Signing out takes a POST and sends everybody to the sign-in page.
    "accounts:logout": Row(EVERYONE, ok=frozenset({302}), method="post"),
    "accounts:home": Row(SIGNED_IN),
    # No block is sealed in the demo fixture, so a bundle is "not found".
    "journal:bundle": public(200, 404),
    "journal:entry": public(),
    "journal:keys": public(),
    "journal:publication": public(),
    "journal:status": public(),
    "journal:verify": public(),
    "wallet:receipt": public(),
    "wallet:receipt_pdf": public(),
    # The collector's service worker script carries no data.
    "waste:collector_sw": public(),
    "ops:healthz": public(),
    "ops:readyz": public(),
    # /health reports 503 while the worker is not running, as in tests.
    "ops:health": public(200, 503),
    # /metrics is guarded by a bearer token when one is configured.
    "ops:metrics": public(),
    # SNAP endpoints authenticate the partner bank by signature, not by user.
    "snap:access_token": Row(EVERYONE, ok=frozenset({400}), method="post"),
    "snap:va_inquiry": Row(EVERYONE, ok=frozenset({400}), method="post"),
    "snap:va_payment": Row(EVERYONE, ok=frozenset({400}), method="post"),
    # The command center.
    "command:alerts": Row(DASHBOARD),
    "command:dashboard": Row(DASHBOARD),
    "command:explain": Row(DASHBOARD),
    "command:figures": Row(DASHBOARD),
    "command:list": Row(DASHBOARD),
    "command:list_export": Row(DASHBOARD),
    "command:map": Row(DASHBOARD),
    "command:map_layer": Row(DASHBOARD),
    "command:monthly_report": Row(DASHBOARD),
    "command:report_form": Row(DASHBOARD),
    "command:wall": Row(DASHBOARD),
    # Reconciliation.
    "reconciliation:day_detail": Row(RECONCILE),
    "reconciliation:day_list": Row(RECONCILE),
    "reconciliation:day_recompute": Row(RECONCILE, ok=frozenset({302}), method="post"),
    "reconciliation:statement_detail": Row(RECONCILE),
    "reconciliation:statement_list": Row(RECONCILE),
    "reconciliation:statement_mismatches": Row(RECONCILE),
    "reconciliation:statement_template": Row(RECONCILE),
    # Wallet pages.
    "wallet:counter": Row(COUNTER),
    "wallet:counter_cash_in": Row(COUNTER),
    "wallet:counter_cash_out": Row(COUNTER),
    # The fixture's reference is a citizen's transfer, not a counter receipt.
    "wallet:counter_receipt": Row(COUNTER, ok=frozenset({404})),
    # The teller is no party to the citizen's transfer.
    "wallet:done": Row(CITIZEN, special={"waste_bank_teller": 404}),
    "wallet:home": Row(WALLET_USERS),
    "wallet:pay": Row(WALLET_USERS),
    "wallet:pay_confirm": Row(WALLET_USERS),
    "wallet:pin": Row(WALLET_USERS),
    "wallet:transfer": Row(WALLET_USERS),
    "wallet:merchant": Row(MERCHANT),
    "wallet:merchant_open": Row(MERCHANT, ok=frozenset({302}), method="post"),
    "wallet:merchant_print": Row(MERCHANT),
    # Without an amount the QR page returns 400 naming the field to fill.
    "wallet:merchant_qr": Row(MERCHANT, ok=frozenset({400})),
    "wallet:merchant_qr_status": Row(MERCHANT),
    # Waste pages.
    "waste:home": Row(WASTE_VIEW | COLLECTOR | WALLET_USERS),
    "waste:collector": Row(COLLECTOR),
    "waste:container_create": Row(OPERATOR),
    "waste:container_edit": Row(OPERATOR),
    "waste:container_plate": Row(OPERATOR),
    "waste:container_sheet": Row(OPERATOR),
    "waste:crew_create": Row(OPERATOR),
    "waste:crew_edit": Row(OPERATOR),
    "waste:schedule_create": Row(OPERATOR),
    "waste:schedule_edit": Row(OPERATOR),
    "waste:site_create": Row(OPERATOR),
    "waste:site_edit": Row(OPERATOR),
    "waste:vehicle_create": Row(OPERATOR),
    "waste:vehicle_edit": Row(OPERATOR),
    "waste:vehicle_status": Row(OPERATOR, ok=frozenset({302}), method="post"),
    "waste:pickup_review": Row(OPERATOR),
    "waste:pickup_decide": Row(OPERATOR, ok=frozenset({302}), method="post"),
    "waste:route_plan_day": Row(OPERATOR, ok=frozenset({302}), method="post"),
    "waste:route_replan": Row(OPERATOR, ok=frozenset({302}), method="post"),
    "waste:container_fill_levels": Row(WASTE_VIEW),
    "waste:container_list": Row(WASTE_VIEW),
    "waste:crew_list": Row(WASTE_VIEW),
    "waste:material_list": Row(WASTE_VIEW),
    "waste:places_map": Row(WASTE_VIEW),
    "waste:route_detail": Row(WASTE_VIEW),
    "waste:route_list": Row(WASTE_VIEW),
    "waste:route_sheet": Row(WASTE_VIEW),
    "waste:schedule_list": Row(WASTE_VIEW),
    "waste:site_list": Row(WASTE_VIEW),
    "waste:statistics": Row(WASTE_VIEW),
    "waste:statistics_sipsn": Row(WASTE_VIEW),
    "waste:statistics_tonnage_csv": Row(WASTE_VIEW),
    "waste:vehicle_list": Row(WASTE_VIEW),
    # The demo pickup has no photo, so the allowed personas get "not found".
    "waste:pickup_photo": Row(WASTE_VIEW, ok=frozenset({404})),
    # A collector is redirected to today's route. No other persona has a route.
    "waste:my_route": Row(COLLECTOR, ok=frozenset({302}), hidden=True),
    # NGSI-LD serves machines: 401 without a session, 400 for a list
    # request without its required `type`.
    "waste:ngsi_entities": Row(WASTE_VIEW, ok=frozenset({400}), anonymous=UNAUTHORIZED),
    "waste:ngsi_entity": Row(WASTE_VIEW, anonymous=UNAUTHORIZED),
    # Waste banks: every signed-in persona sees the list of units.
    "wastebank:home": Row(SIGNED_IN),
    "wastebank:book": Row(TELLER),
    "wastebank:book_pdf": Row(TELLER),
    "wastebank:deposit": Row(TELLER),
    "wastebank:deposit_new": Row(TELLER),
    "wastebank:prices": Row(TELLER),
    "wastebank:stock": Row(TELLER),
    # The demo city records no sale, so the teller gets "not found".
    "wastebank:sale": Row(TELLER, ok=frozenset({404})),
    "wastebank:unit": Row(TELLER),
    # Citizen reports: a report is visible to its reporter and waste staff.
    "wastereports:mine": Row(CITIZEN),
    "wastereports:new": Row(CITIZEN),
    "wastereports:queue": Row(WASTE_VIEW),
    "wastereports:detail": Row(WASTE_VIEW | CITIZEN, hidden=True),
    # The citizen's report has no photo.
    "wastereports:photo": Row(WASTE_VIEW | CITIZEN, ok=frozenset({404}), hidden=True),
    "wastereports:follow": Row(CITIZEN, ok=frozenset({302}), method="post"),
    "wastereports:update": Row(OPERATOR, ok=frozenset({302}), method="post"),
    "wastereports:assign": Row(OPERATOR, ok=frozenset({302}), method="post"),
    # Pilot and cost sharing. The fixture runs the demo pilot, which has
    # started, so its trial report exists.
    "pilot:create": Row(ADMIN),
    "pilot:list": Row(ADMIN),
    "pilot:scopes": Row(ADMIN),
    "pilot:detail": Row(ADMIN),
    "pilot:edit": Row(ADMIN),
    # An empty form names no area to add, so the admin gets the form back.
    "pilot:grow": Row(ADMIN, ok=frozenset({422}), method="post"),
    "pilot:end": Row(ADMIN, ok=frozenset({302}), method="post"),
    "pilot_trial:baseline": Row(ADMIN),
    "pilot_trial:report": Row(TRIAL_REPORT),
    "pilot_trial:report_pdf": Row(TRIAL_REPORT),
    "sharing:cost_list": Row(ADMIN),
    "sharing:cost_correct": Row(ADMIN),
    "sharing:statement": Row(SHARING_READ),
    "sharing:statement_pdf": Row(SHARING_READ),
    "sharing:statement_xlsx": Row(SHARING_READ),
}

OPERATIONS: dict[tuple[str, str], Row] = {
    # The journal API is public: anyone can check proofs. No block is sealed
    # in the fixture, so checkpoints and entries are "not found".
    ("GET", "/api/journal/checkpoint"): public(200, 404),
    ("GET", "/api/journal/checkpoint.txt"): public(200, 404),
    ("GET", "/api/journal/checkpoint/witnessed.txt"): public(200, 404),
    ("GET", "/api/journal/consistency"): public(422),
    ("GET", "/api/journal/entries/{seq}"): public(200, 404),
    ("GET", "/api/journal/entries/{seq}/bundle"): public(200, 404),
    ("GET", "/api/journal/keys"): public(),
    ("GET", "/api/command/alerts"): Row(DASHBOARD, anonymous=UNAUTHORIZED),
    ("GET", "/api/command/figures"): Row(DASHBOARD, anonymous=UNAUTHORIZED),
    ("GET", "/api/command/kelurahan"): Row(DASHBOARD, anonymous=UNAUTHORIZED),
    ("GET", "/api/command/series/{metric}"): Row(DASHBOARD, anonymous=UNAUTHORIZED),
    ("GET", "/api/wallet/accounts"): Row(ALL_ACCOUNTS, anonymous=UNAUTHORIZED),
    ("GET", "/api/wallet/accounts/{number}"): Row(ALL_ACCOUNTS, anonymous=UNAUTHORIZED),
    ("GET", "/api/wallet/transfers"): Row(ALL_ACCOUNTS, anonymous=UNAUTHORIZED),
    ("GET", "/api/wallet/transfers/{reference}"): Row(
        ALL_ACCOUNTS, anonymous=UNAUTHORIZED
    ),
    ("GET", "/api/wallet/me"): Row(WALLET_USERS, anonymous=UNAUTHORIZED),
    ("GET", "/api/wallet/me/transfers"): Row(WALLET_USERS, anonymous=UNAUTHORIZED),
    ("GET", "/api/wallet/payees/{number}"): Row(
        WALLET_USERS | COUNTER, anonymous=UNAUTHORIZED
    ),
    ("GET", "/api/wallet/merchant"): Row(MERCHANT, anonymous=UNAUTHORIZED),
    ("GET", "/api/wallet/merchant/payments"): Row(MERCHANT, anonymous=UNAUTHORIZED),
    # An empty body passes the permission check and then fails validation,
    # which proves the caller got through.
    ("POST", "/api/wallet/merchant/qr"): Row(MERCHANT, anonymous=UNAUTHORIZED),
    ("POST", "/api/wallet/qr/parse"): Row(
        WALLET_USERS, ok=frozenset({422}), anonymous=UNAUTHORIZED
    ),
    ("POST", "/api/wallet/qr/pay"): Row(
        WALLET_USERS, ok=frozenset({422}), anonymous=UNAUTHORIZED
    ),
    ("POST", "/api/wallet/transfers"): Row(
        WALLET_USERS, ok=frozenset({422}), anonymous=UNAUTHORIZED
    ),
    ("POST", "/api/wallet/batch"): Row(
        COUNTER, ok=frozenset({422}), anonymous=UNAUTHORIZED
    ),
    ("POST", "/api/wallet/counter/cash-in"): Row(
        COUNTER, ok=frozenset({422}), anonymous=UNAUTHORIZED
    ),
    ("POST", "/api/wallet/counter/cash-out"): Row(
        COUNTER, ok=frozenset({422}), anonymous=UNAUTHORIZED
    ),
    ("POST", "/api/wallet/reservations"): Row(
        COUNTER, ok=frozenset({422}), anonymous=UNAUTHORIZED
    ),
    ("POST", "/api/wallet/reservations/{pending_id}/post"): Row(
        COUNTER, ok=frozenset({422}), anonymous=UNAUTHORIZED
    ),
    ("POST", "/api/wallet/reservations/{pending_id}/void"): Row(
        COUNTER, ok=frozenset({422}), anonymous=UNAUTHORIZED
    ),
    ("GET", "/api/waste/pickups/route/today"): Row(COLLECTOR, anonymous=UNAUTHORIZED),
    # Sensor readings come with a device token, never from a user session.
    ("POST", "/api/waste/sensors/readings"): Row(set(), anonymous=UNAUTHORIZED),
}

# Operations whose permission check runs after body validation, so an empty
# body cannot tell personas apart; the named test file sends valid bodies.
OPERATIONS_TESTED_IN: dict[tuple[str, str], str] = {
    ("POST", "/api/waste/pickups"): "waste/pickups/test_pickups_api.py",
}

# Namespaces and API prefixes whose own matrix test lists every URL: the test
# file, and the names of its tables of pages and of operations.
ELSEWHERE: dict[str, tuple[str, tuple[str, ...]]] = {
    "registry:": ("registry/test_permissions.py", ("PAGES", "PAGE_PREFIXES")),
    "levy:": ("levy/test_permissions.py", ("PAGES",)),
    "/api/registry/": ("registry/test_permissions.py", ("OPERATIONS",)),
    "/api/plates/": ("registry/test_permissions.py", ("OPERATIONS",)),
    "/api/levy/": ("levy/test_permissions.py", ("OPERATIONS",)),
}

# The OpenAPI schema and its page are public documentation.
API_DOCUMENTATION = {"api/openapi.json", "api/docs", "api/"}


def _load(relative: str) -> ModuleType:
    path = TESTS / relative
    spec = importlib.util.spec_from_file_location(f"security_ref_{path.stem}", path)
    assert spec is not None and spec.loader is not None, f"cannot load {path}"
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _covered_elsewhere(key: str) -> bool:
    """Return whether the matrix test named in ELSEWHERE has a row for `key`."""
    for prefix, (relative, tables) in ELSEWHERE.items():
        if not key.startswith(prefix):
            continue
        module = _load(relative)
        rows: set[object] = set()
        for table in tables:
            rows |= set(getattr(module, table))
        name = key.split(":", 1)[1]
        return name in rows or any(
            name.startswith(p) for p in rows if isinstance(p, str)
        )
    return False


def _covered_operation(operation: tuple[str, str]) -> bool:
    for prefix, (relative, tables) in ELSEWHERE.items():
        if operation[1].startswith(prefix):
            module = _load(relative)
            return any(operation in getattr(module, table) for table in tables)
    return False


def test_every_page_has_a_row():
    missing = [
        key
        for key in sorted(page_routes())
        if key not in PAGES and not _covered_elsewhere(key)
    ]

    assert not missing, f"add persona rows for these URLs to PAGES: {missing}"


def test_every_row_is_a_page():
    absent = sorted(set(PAGES) - set(page_routes()))

    assert not absent, f"these PAGES rows name no URL: {absent}"


def test_every_operation_has_a_row():
    missing = [
        operation
        for operation in sorted(api_operations())
        if operation not in OPERATIONS
        and operation not in OPERATIONS_TESTED_IN
        and not _covered_operation(operation)
    ]

    assert not missing, f"add persona rows for these operations: {missing}"


def test_every_operation_row_exists():
    absent = sorted(set(OPERATIONS) - api_operations())

    assert not absent, f"these OPERATIONS rows name no operation: {absent}"


def test_operations_tested_elsewhere_exist():
    for (method, path), relative in OPERATIONS_TESTED_IN.items():
        text = (TESTS / relative).read_text()
        assert path in text, f"{relative} never requests {method} {path}"


def test_api_routes_are_operations_or_docs():
    """Every route under api/ is an OpenAPI operation or the schema pages."""
    paths = {path.lstrip("/") for _method, path in api_operations()}
    routes = {route.replace("<", "{").replace(">", "}") for route in _api_routes()}

    assert routes - paths <= API_DOCUMENTATION, sorted(routes - paths)


def _api_routes() -> list[str]:
    from .routes import api_routes

    return api_routes()


def expected(row: Row, persona: str, *, api: bool) -> set[int] | str:
    """Return the statuses `persona` may get, or LOGIN for the sign-in redirect."""
    if persona in row.special:
        return {row.special[persona]}
    if persona in row.allowed:
        return set(row.ok)
    if persona == "anonymous":
        return {401} if api or row.anonymous == UNAUTHORIZED else LOGIN
    return {404} if row.hidden else {403}


def check(response, want: set[int] | str) -> bool:
    if want == LOGIN:
        return response.status_code == 302 and response["Location"].startswith(
            "/login/"
        )
    return response.status_code in want


@pytest.mark.django_db
@pytest.mark.parametrize("key", sorted(PAGES))
def test_page_matrix(key: str, demo_city: DemoCity):
    routes = page_routes()
    if key not in routes:
        pytest.fail(f"{key} is in PAGES but not in the URLconf")
    row = PAGES[key]
    route = routes[key]
    url = route.url(demo_city.objects)

    wrong = []
    for persona in PERSONAS:
        client = demo_city.client(persona)
        response = client.post(url, {}) if row.method == "post" else client.get(url)
        want = expected(row, persona, api=False)
        if not check(response, want):
            location = response.get("Location", "")
            wrong.append(
                f"{key} as {persona}: {response.status_code} {location}".rstrip()
                + f", expected {want}"
            )

    assert not wrong, "\n".join(wrong)


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), sorted(OPERATIONS))
def test_api_matrix(method: str, path: str, demo_city: DemoCity):
    row = OPERATIONS[(method, path)]
    url = path.format(**demo_city.objects)

    wrong = []
    for persona in PERSONAS:
        client = demo_city.client(persona)
        response = client.generic(method, url, "{}", content_type="application/json")
        want = expected(row, persona, api=True)
        if not check(response, want):
            wrong.append(
                f"{method} {path} as {persona}: {response.status_code}, expected {want}"
            )

    assert not wrong, "\n".join(wrong)


@pytest.mark.django_db
def test_admin_site_staff_only(demo_city: DemoCity):
    """The Django admin lets in only the staff roles, admin and auditor."""
    assert admin_routes(), "the admin site has no routes"
    staff = {"admin", "auditor"}

    wrong = []
    for persona in PERSONAS:
        response = demo_city.client(persona).get("/admin/")
        if persona in staff:
            ok = response.status_code == 200
        else:
            ok = response.status_code == 302 and response["Location"].startswith(
                "/admin/login/"
            )
        if not ok:
            wrong.append(f"/admin/ as {persona}: {response.status_code}")

    assert not wrong, "\n".join(wrong)
