"""The persona and permission matrix for every registry page and API operation.

The matrix names, for each URL of the `registry` namespace and each operation
under /api/registry and /api/plates, the personas that get through. Every other signed-in
persona must get 403, and an anonymous visitor the login page (pages) or 401
(API). The first tests fail when a URL or an operation has no row, so a new
page cannot ship without its expectations. They also fail when a row names a
page that does not exist yet, so a missing page is reported by name.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from kotacerdas.accounts.roles import ROLES
from kotacerdas.config.api import api
from kotacerdas.registry.models import Household

pytestmark = pytest.mark.django_db

PERSONAS = [role.name for role in ROLES] + ["outsider", "anonymous"]

# Who has which registry permission, read off accounts.roles by hand so that
# a change of a role's rights shows up here as a failing row.
VIEW_BUILDING = {
    "admin",
    "registry_officer",
    "waste_operator",
    "revenue_officer",
    "auditor",
    "command_center",
}
VIEW_HOUSEHOLD = {"admin", "registry_officer", "revenue_officer", "auditor"}
SCAN_PLATE = {"registry_officer", "waste_operator", "collector", "citizen"}
REGISTRY_EDIT = {"registry_officer"}  # add/change buildings and households
PRINT_PLATE = {"registry_officer"}
IMPORT_REGISTRY = {"registry_officer"}
SCANNERS = VIEW_BUILDING | SCAN_PLATE
HANDLE_DATA_REQUEST = {"admin", "registry_officer"}
VIEW_AUDIT = {"admin", "auditor"}
NOBODY: set[str] = set()

LOGIN = "login"  # anonymous: a redirect to the sign-in page
PUBLIC = "public"  # anonymous: the same status as an allowed persona


@dataclass(frozen=True)
class Row:
    """Expectations for one page: who gets `ok`, and what everyone else gets."""

    allowed: set[str]
    ok: int = 200
    public: bool = False  # anonymous callers get `ok` too
    method: str = "get"
    data: dict[str, str] = field(default_factory=dict)
    anonymous: str = LOGIN
    # Personas whose status is neither `ok` nor 403, such as a redirect.
    special: dict[str, int] = field(default_factory=dict)


PAGES: dict[str, Row] = {
    "building_list": Row(VIEW_BUILDING),
    "map": Row(VIEW_BUILDING),
    "map_buildings": Row(VIEW_BUILDING),
    "building_detail": Row(VIEW_BUILDING),
    "building_create": Row(REGISTRY_EDIT),
    "building_edit": Row(REGISTRY_EDIT),
    "plate_manage": Row(PRINT_PLATE),
    "household_create": Row(REGISTRY_EDIT),
    "household_move": Row(REGISTRY_EDIT),
    "household_retire": Row(REGISTRY_EDIT),
    "member_create": Row(REGISTRY_EDIT),
    "member_edit": Row(REGISTRY_EDIT),
    "member_remove": Row(REGISTRY_EDIT),
    # Plates and scanning.
    "scan": Row(SCANNERS),
    "scan_resolve": Row(SCANNERS, method="post", data={"text": ""}),
    # Collectors and registry staff record plates as installed, and the
    # response is a redirect back to the scan page.
    "plate_install": Row(
        {"registry_officer", "collector"}, ok=302, method="post", data={"text": ""}
    ),
    # Public, because a phone's camera app opens it; users with scan rights
    # are sent on to the scan page.
    "plate_landing": Row(
        NOBODY,
        anonymous=PUBLIC,
        special={name: 302 for name in SCANNERS},
    ),
    "plate_pdf": Row(PRINT_PLATE),
    "plate_print": Row(PRINT_PLATE),
    "plate_sheet": Row(PRINT_PLATE),
    # Importing; the other import pages follow PAGE_PREFIXES.
    "import_run": Row(IMPORT_REGISTRY, ok=302, method="post", data={"mode": ""}),
    # Data-subject requests and the log of unmasked NIK/KK views.
    "privacy_index": Row(HANDLE_DATA_REQUEST),
    "privacy_subject": Row(HANDLE_DATA_REQUEST),
    "privacy_export": Row(HANDLE_DATA_REQUEST),
    "privacy_erase": Row(HANDLE_DATA_REQUEST),
    "identity_view_log": Row(VIEW_AUDIT),
}
# Pages named by prefix, for the import pages (import, import_status, ...).
PAGE_PREFIXES: dict[str, Row] = {"import": Row(IMPORT_REGISTRY)}


def expected_page_status(row: Row, persona: str) -> int:
    if persona == "anonymous":
        return 302 if row.anonymous == LOGIN else row.ok
    if persona in row.special:
        return row.special[persona]
    if persona in row.allowed or row.anonymous == PUBLIC:
        return row.ok
    return 403


def walk(patterns: list, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, prefix)
        elif isinstance(entry, URLPattern) and entry.name:
            yield entry.name, entry


def registry_patterns() -> dict[str, URLPattern]:
    _prefix, resolver = get_resolver().namespace_dict["registry"]
    return dict(walk(resolver.url_patterns))


def row_for(name: str) -> Row | None:
    if name in PAGES:
        return PAGES[name]
    for prefix, row in PAGE_PREFIXES.items():
        if name.startswith(prefix):
            return row
    return None


def pages_for(key: str, names: list[str]) -> list[str]:
    """The URL names a matrix key covers: itself, or the unlisted names it prefixes."""
    if key in PAGES:
        return [key] if key in names else []
    return [n for n in names if n.startswith(key) and n not in PAGES]


def test_every_page_has_a_row():
    missing = sorted(name for name in registry_patterns() if row_for(name) is None)

    assert not missing, f"add these registry pages to PAGES: {missing}"


def test_every_row_is_a_page():
    names = set(registry_patterns())
    absent = sorted(set(PAGES) - names)
    prefixes_unused = sorted(
        prefix
        for prefix in PAGE_PREFIXES
        if not any(n.startswith(prefix) for n in names)
    )

    assert not absent, f"these registry pages are not in the URLconf yet: {absent}"
    assert not prefixes_unused, f"no registry page starts with: {prefixes_unused}"


@pytest.fixture
def objects(household, personas) -> dict[str, object]:
    """The URL arguments of the pages, all in the registry officer's kelurahan."""
    building = household.building
    return {
        "building_id": building.pk,
        "household_id": household.pk,
        "member_id": household.members.first().pk,
        "code": building.plate_code,
        "batch_id": import_batch_id(personas["registry_officer"]),
        "file_format": "csv",
        # Query strings some pages need to answer with their normal page.
        "query:plate_sheet": {"ids": str(building.pk)},
    }


def import_batch_id(user) -> object:
    """Upload a small spreadsheet as `user`, for the pages of one import."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from kotacerdas.registry import import_batches

    upload = SimpleUploadedFile(
        "bangunan.csv", b"kode_kelurahan;rw;rt;alamat\n", content_type="text/csv"
    )
    return import_batches.receive_upload(upload, user).pk


def page_url(name: str, pattern: URLPattern, objects: dict[str, object]) -> str:
    names = (
        list(pattern.pattern.converters)
        if hasattr(pattern.pattern, "converters")
        else []
    )
    unknown = [arg for arg in names if arg not in objects]
    if unknown:
        pytest.fail(f"registry:{name} takes {unknown}; add a value to `objects`")
    return reverse(f"registry:{name}", kwargs={arg: objects[arg] for arg in names})


def client_for(persona: str, personas) -> Client:
    client = Client()
    if persona != "anonymous":
        client.force_login(personas[persona])
    return client


@pytest.mark.parametrize("name", sorted([*PAGES, *PAGE_PREFIXES]))
def test_page_matrix(name, personas, objects):
    patterns = registry_patterns()
    matching = pages_for(name, list(patterns))
    if not matching:
        pytest.fail(f"registry:{name} is in the matrix but not in the URLconf yet")

    wrong = []
    for page in matching:
        row = row_for(page)
        assert row is not None
        url = page_url(page, patterns[page], objects)
        query = objects.get(f"query:{page}", {})
        for persona in PERSONAS:
            client = client_for(persona, personas)
            if row.method == "post":
                response = client.post(url, row.data)
            else:
                response = client.get(url, query)
            expected = expected_page_status(row, persona)
            if response.status_code != expected:
                wrong.append(
                    f"{page} as {persona}: {response.status_code}, expected {expected}"
                )
            elif (
                persona == "anonymous"
                and row.anonymous == LOGIN
                and not response["Location"].startswith("/login/")
            ):
                wrong.append(
                    f"{page} as anonymous: redirected to {response['Location']}"
                )

    assert not wrong, "\n".join(wrong)


# The API ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    """Expectations for one API operation; a write is sent an empty body."""

    allowed: set[str]
    ok: int = 200
    public: bool = False  # anonymous callers get `ok` too


OPERATIONS: dict[tuple[str, str], Operation] = {
    ("GET", "/api/registry/buildings"): Operation(VIEW_BUILDING),
    # An empty body passes authentication and the permission check and
    # then fails validation, which proves the caller got through.
    ("POST", "/api/registry/buildings"): Operation(REGISTRY_EDIT, ok=422),
    ("GET", "/api/registry/buildings/{building_id}"): Operation(VIEW_BUILDING),
    ("PATCH", "/api/registry/buildings/{building_id}"): Operation(REGISTRY_EDIT),
    ("GET", "/api/registry/buildings/{building_id}/households"): Operation(
        VIEW_HOUSEHOLD
    ),
    ("POST", "/api/registry/buildings/{building_id}/households"): Operation(
        REGISTRY_EDIT, ok=422
    ),
    # Phones check plates offline with these keys, and anyone may ask whether
    # a plate is genuine; the answer holds no personal data.
    ("GET", "/api/plates/keys"): Operation(set(PERSONAS), public=True),
    ("POST", "/api/plates/verify"): Operation(set(PERSONAS), ok=422, public=True),
}


def registry_operations() -> set[tuple[str, str]]:
    paths = api.get_openapi_schema()["paths"]
    return {
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith(("/api/registry/", "/api/plates/"))
        for method in operations
    }


def test_every_operation_has_a_row():
    missing = sorted(registry_operations() - set(OPERATIONS))
    absent = sorted(set(OPERATIONS) - registry_operations())

    assert not missing, f"add these API operations to OPERATIONS: {missing}"
    assert not absent, f"these API operations do not exist: {absent}"


@pytest.mark.parametrize(("method", "path"), sorted(OPERATIONS))
def test_api_matrix(method, path, personas, objects):
    operation = OPERATIONS[(method, path)]
    url = path.format(building_id=objects["building_id"])

    wrong = []
    for persona in PERSONAS:
        client = client_for(persona, personas)
        response = client.generic(method, url, "{}", content_type="application/json")
        if persona == "anonymous" and not operation.public:
            expected = 401
        else:
            expected = operation.ok if persona in operation.allowed else 403
        if response.status_code != expected:
            wrong.append(
                f"{method} {path} as {persona}: {response.status_code}, expected {expected}"
            )

    assert not wrong, "\n".join(wrong)


def test_scoped_officer_sees_no_other_kelurahan(personas, objects, city):
    """The matrix runs in the officer's kelurahan; elsewhere she gets 403."""
    from kotacerdas.registry.services import register_building

    from .conftest import building_input

    other = register_building(building_input(kelurahan_code="13.74.01.1001"))
    client = client_for("registry_officer", personas)

    page = client.get(
        reverse("registry:building_detail", kwargs={"building_id": other.pk})
    )
    edit = client.get(
        reverse("registry:building_edit", kwargs={"building_id": other.pk})
    )
    api_get = client.get(f"/api/registry/buildings/{other.pk}")
    households = client.get(f"/api/registry/buildings/{other.pk}/households")

    assert page.status_code == 403
    assert edit.status_code == 403
    assert api_get.status_code == 403
    assert households.status_code == 403
    assert Household.objects.count() == 1
