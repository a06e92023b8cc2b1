"""The registry's JSON API: buildings and their households, for integrations.

Callers authenticate with an API token (`Authorization: Bearer kc_...`) or,
from the city's own pages, with their session and a CSRF token on writes.
Each operation checks one Django permission of the user; kelurahan staff reach
only their kelurahan's buildings. Request bodies take loosely typed values and
leave validation to `registry.services`, so a 422 lists every invalid field
at once: `error` is the first (the shape every endpoint of this API uses) and
`errors` all of them. NIK and KK numbers are masked unless the user has
`registry.view_identity_numbers`.
"""

from datetime import date, datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import ConfigDict, Field

from kotacerdas.accounts.api_auth import API_AUTH
from kotacerdas.city.codes import InvalidAreaCode, normalize_code
from kotacerdas.city.models import Area
from kotacerdas.pilot.areas import require_at, require_at_typed
from kotacerdas.pilot.services import Service
from kotacerdas.registry import queries, services
from kotacerdas.registry.forms import BuildingFilterForm
from kotacerdas.registry.identity_access import record_identity_view
from kotacerdas.registry.levy import LevyClass
from kotacerdas.registry.models import Building, Household, Member
from kotacerdas.registry.services import (
    BuildingInput,
    FieldError,
    MemberInput,
    RegistryInvalid,
)

router = Router(auth=API_AUTH)

MAX_LIMIT = 500
# Databases take a 64-bit OFFSET; a bound far below it gives 422, not 500.
MAX_OFFSET = 1_000_000_000
# Values a caller may send as a JSON string or number; services parse them.
Loose = str | int | float | None
Reply = Status[Any]


class ErrorDetail(Schema):
    code: str
    message: str
    field: str | None = None


class ErrorOut(Schema):
    error: ErrorDetail


class InvalidOut(Schema):
    error: ErrorDetail
    errors: list[ErrorDetail]


class BuildingOut(Schema):
    id: int
    plate_code: str
    plate_status: str | None = Field(
        description="Status of the live plate; null when the plate is revoked."
    )
    kelurahan_code: str
    kelurahan_name: str
    rw: str
    rt: str
    street_address: str
    lat: float | None
    lng: float | None
    use: str
    floors: int
    floor_area_m2: int | None
    pln_va: int | None
    levy_class: str
    levy_monthly_rupiah: int | None
    status: str
    external_ref: str
    created_at: datetime
    updated_at: datetime


class BuildingPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[BuildingOut]


class BuildingFilters(Schema):
    q: str = Field("", description="Plate code or part of the street address.")
    kelurahan: str = Field("", description="Kelurahan code, such as 13.74.02.1002.")
    rw: str = ""
    rt: str = ""
    use: str = ""
    levy_class: str = ""
    plate_status: str = Field("", description="issued, installed or revoked.")
    status: str = ""
    limit: int = Field(50, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class BuildingIn(Schema):
    model_config = ConfigDict(extra="forbid")

    kelurahan_code: Loose = None
    rw: Loose = None
    rt: Loose = None
    street_address: Loose = None
    use: Loose = None
    lat: Loose = None
    lng: Loose = None
    floors: Loose = 1
    floor_area_m2: Loose = None
    pln_va: Loose = None
    status: Loose = Building.Status.ACTIVE
    external_ref: Loose = ""


class BuildingPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    kelurahan_code: Loose = None
    rw: Loose = None
    rt: Loose = None
    street_address: Loose = None
    use: Loose = None
    lat: Loose = None
    lng: Loose = None
    floors: Loose = None
    floor_area_m2: Loose = None
    pln_va: Loose = None
    status: Loose = None
    external_ref: Loose = None


class MemberOut(Schema):
    id: int
    full_name: str
    nik: str = Field(description="Masked unless the caller may see NIK numbers.")
    sex: str
    birth_date: date | None
    relation: str
    phone: str
    status: str


class HouseholdOut(Schema):
    id: int
    building_id: int
    kk_number: str = Field(description="Masked unless the caller may see KK numbers.")
    status: str
    members: list[MemberOut]


class MemberIn(Schema):
    model_config = ConfigDict(extra="forbid")

    full_name: Loose = None
    nik: Loose = None
    relation: Loose = None
    phone: Loose = ""


class HouseholdIn(Schema):
    model_config = ConfigDict(extra="forbid")

    kk_number: Loose = None
    members: list[MemberIn] = Field(default_factory=list, max_length=50)


# Checks shared by the operations ------------------------------------------------


def _denied(request: HttpRequest, permission: str) -> Reply | None:
    if request.user.has_perm(permission):
        return None
    return _forbidden(
        _("Your role does not allow this (it needs the %(permission)s permission).")
        % {"permission": permission}
    )


def _error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    # Imported here because config.api imports this module to mount the router.
    from kotacerdas.config.api import error_body

    return error_body(code, message, field)


def _forbidden(message: str, field: str | None = None) -> Reply:
    return Status(403, _error_body("forbidden", message, field))


def _invalid(errors: list[FieldError]) -> Reply:
    details = [
        _error_body("invalid", error.message, error.field)["error"] for error in errors
    ]
    return Status(422, {"error": details[0], "errors": details})


def _not_found() -> Reply:
    return Status(404, _error_body("not_found", _("No building has this id.")))


def _outside(request: HttpRequest) -> Reply:
    own = request.user.kelurahan  # type: ignore[union-attr]
    area = own.name if own else ""
    return _forbidden(
        _("Your work area is Kelurahan %(area)s only.") % {"area": area},
        "kelurahan_code",
    )


def _find_building(request: HttpRequest, building_id: int) -> Building | None:
    building = (
        queries.with_live_plate(
            Building.objects.select_related("kelurahan", "unit").filter(pk=building_id)
        )
    ).first()
    if building is not None:
        require_at(Service.REGISTRY, building)
    return building


def _kelurahan_allowed(request: HttpRequest, code: Any) -> bool:
    own = request.user.kelurahan  # type: ignore[union-attr]
    if own is None or code in (None, ""):
        return True
    try:
        normalized = normalize_code(str(code))
    except InvalidAreaCode:
        normalized = ""
    # A code of no area of this city is the services' to reject, with a 422.
    exists = Area.objects.filter(code=normalized).exists()
    return normalized == own.code or not exists


def _building_out(
    building: Building, levies: dict[str, LevyClass] | None = None
) -> dict[str, Any]:
    # The levy classes come from the city profile; a list passes them in once.
    levy = (levies if levies is not None else queries.levy_by_code()).get(
        building.levy_class
    )
    live = getattr(building, "live_plate_status", None)
    if not hasattr(building, "live_plate_status"):
        plate = services.current_plate(building)
        live = plate.status if plate else None
    return {
        "id": building.pk,
        "plate_code": building.plate_code,
        "plate_status": live,
        "kelurahan_code": building.kelurahan.code,
        "kelurahan_name": building.kelurahan.name,
        "rw": building.unit.rw,
        "rt": building.unit.rt,
        "street_address": building.street_address,
        "lat": None if building.lat is None else float(building.lat),
        "lng": None if building.lng is None else float(building.lng),
        "use": building.use,
        "floors": building.floors,
        "floor_area_m2": building.floor_area_m2,
        "pln_va": building.pln_va,
        "levy_class": building.levy_class,
        "levy_monthly_rupiah": levy.monthly if levy else None,
        "status": building.status,
        "external_ref": building.external_ref,
        "created_at": building.created_at,
        "updated_at": building.updated_at,
    }


def _household_out(household: Household, request: HttpRequest) -> dict[str, Any]:
    unmasked = services.can_see_identity_numbers(request.user)
    members: QuerySet[Member] | list[Member] = []
    if request.user.has_perm("registry.view_member"):
        members = list(household.members.filter(status=Member.Status.ACTIVE))
    if unmasked:
        record_identity_view(
            request.user,
            "api:registry_household",
            member_ids=[member.pk for member in members],
            household_ids=[household.pk],
            request=request,
        )
    return {
        "id": household.pk,
        "building_id": household.building_id,
        "kk_number": services.household_kk(household, unmasked=unmasked),
        "status": household.status,
        "members": [
            {
                "id": member.pk,
                "full_name": member.full_name,
                "nik": services.member_nik(member, unmasked=unmasked),
                "sex": member.sex,
                "birth_date": member.birth_date,
                "relation": member.relation,
                "phone": member.phone,
                "status": member.status,
            }
            for member in members
        ],
    }


# Operations ------------------------------------------------------------------------


@router.get(
    "/buildings",
    response={200: BuildingPage, 403: ErrorOut, 422: InvalidOut},
    summary="List and filter buildings",
)
def list_buildings(request: HttpRequest, filters: Query[BuildingFilters]) -> Reply:
    if denied := _denied(request, "registry.view_building"):
        return denied
    params = filters.dict(exclude={"limit", "offset"})
    form = BuildingFilterForm(params, user=request.user)
    if not form.is_valid():
        return _invalid(
            [
                FieldError(name, str(messages[0]))
                for name, messages in form.errors.items()
            ]
        )
    buildings = queries.with_live_plate(
        queries.filter_buildings(
            queries.visible_buildings(request.user), form.filters()
        )
    ).order_by("id")
    page = buildings[filters.offset : filters.offset + filters.limit]
    levies = queries.levy_by_code()
    return Status(
        200,
        {
            "count": buildings.count(),
            "limit": filters.limit,
            "offset": filters.offset,
            "items": [_building_out(building, levies) for building in page],
        },
    )


@router.get(
    "/buildings/{building_id}",
    response={200: BuildingOut, 403: ErrorOut, 404: ErrorOut},
    summary="Get a building",
)
def get_building(request: HttpRequest, building_id: int) -> Reply:
    if denied := _denied(request, "registry.view_building"):
        return denied
    building = _find_building(request, building_id)
    if building is None:
        return _not_found()
    if not queries.in_scope(request.user, building):
        return _outside(request)
    return Status(200, _building_out(building))


@router.post(
    "/buildings",
    response={201: BuildingOut, 403: ErrorOut, 422: InvalidOut},
    summary="Register a building (and issue its plate)",
)
def create_building(request: HttpRequest, body: BuildingIn) -> Reply:
    if denied := _denied(request, "registry.add_building"):
        return denied
    if not _kelurahan_allowed(request, body.kelurahan_code):
        return _outside(request)
    require_at_typed(Service.REGISTRY, body.kelurahan_code, body.rw, body.rt)
    values = {k: "" if v is None else v for k, v in body.dict().items()}
    values["lat"], values["lng"] = body.lat, body.lng
    try:
        building = services.register_building(
            BuildingInput(**values), actor=request.user
        )
    except RegistryInvalid as error:
        return _invalid(error.errors)
    created = _find_building(request, building.pk)
    assert created is not None
    return Status(201, _building_out(created))


@router.patch(
    "/buildings/{building_id}",
    response={200: BuildingOut, 403: ErrorOut, 404: ErrorOut, 422: InvalidOut},
    summary="Change some fields of a building",
)
def update_building(
    request: HttpRequest, building_id: int, body: BuildingPatch
) -> Reply:
    if denied := _denied(request, "registry.change_building"):
        return denied
    building = _find_building(request, building_id)
    if building is None:
        return _not_found()
    if not queries.in_scope(request.user, building):
        return _outside(request)
    changes = body.dict(exclude_unset=True)
    if not _kelurahan_allowed(request, changes.get("kelurahan_code")):
        return _outside(request)
    try:
        services.change_building(building, changes, actor=request.user)
    except RegistryInvalid as error:
        return _invalid(error.errors)
    building = _find_building(request, building_id)
    assert building is not None
    return Status(200, _building_out(building))


@router.get(
    "/buildings/{building_id}/households",
    response={200: list[HouseholdOut], 403: ErrorOut, 404: ErrorOut},
    summary="List the households living in a building",
)
def list_households(request: HttpRequest, building_id: int) -> Reply:
    if denied := _denied(request, "registry.view_household"):
        return denied
    building = _find_building(request, building_id)
    if building is None:
        return _not_found()
    if not queries.in_scope(request.user, building):
        return _outside(request)
    households = building.households.filter(status=Household.Status.ACTIVE)
    return Status(200, [_household_out(household, request) for household in households])


@router.post(
    "/buildings/{building_id}/households",
    response={201: HouseholdOut, 403: ErrorOut, 404: ErrorOut, 422: InvalidOut},
    summary="Register a household (KK) with its members in a building",
)
def register_household(
    request: HttpRequest, building_id: int, body: HouseholdIn
) -> Reply:
    if denied := _denied(request, "registry.add_household"):
        return denied
    building = _find_building(request, building_id)
    if building is None:
        return _not_found()
    if not queries.in_scope(request.user, building):
        return _outside(request)
    members = [
        MemberInput(
            full_name=str(member.full_name or ""),
            nik=str(member.nik or ""),
            relation=str(member.relation or ""),
            phone=str(member.phone or ""),
        )
        for member in body.members
    ]
    try:
        household = services.register_household(
            building, str(body.kk_number or ""), members, actor=request.user
        )
    except RegistryInvalid as error:
        return _invalid(error.errors)
    return Status(201, _household_out(household, request))
