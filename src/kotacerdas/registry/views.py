"""Staff pages of the registry: the building list, a building, its forms, the map.

Every view checks one Django permission, and kelurahan staff reach only the
buildings of their own kelurahan (`queries.in_scope`). A building elsewhere
gets a 403 page naming the kelurahan it is in. Writes go through
`registry.services`, whose field errors are shown on the form fields.
"""

import dataclasses
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from kotacerdas.city.models import Area, City
from kotacerdas.pilot.areas import require_at
from kotacerdas.pilot.services import Service
from kotacerdas.registry import queries, services
from kotacerdas.registry.forms import (
    DEFAULT_PAGE_SIZE,
    BuildingFilterForm,
    BuildingForm,
    ConfirmForm,
    HouseholdForm,
    MemberForm,
    MemberFormSet,
    MoveHouseholdForm,
    PlateForm,
    apply_errors,
)
from kotacerdas.registry.identity_access import record_identity_view
from kotacerdas.registry.models import Building, Household, Member, Residence
from kotacerdas.registry.services import BuildingInput, MemberInput, RegistryInvalid

View = Callable[..., HttpResponse]


class OutsideKelurahan(PermissionDenied):
    """A kelurahan officer asked for a building of another kelurahan."""

    def __init__(self, area: Area) -> None:
        super().__init__(area.code)
        self.area = area


def registry_page(permission: str) -> Callable[[View], View]:
    """Require sign-in and `permission`; render the kelurahan 403 page when due."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.has_perm(permission):
                raise PermissionDenied
            try:
                return view(request, *args, **kwargs)
            except OutsideKelurahan as denied:
                context = {"area": denied.area, "own": request.user.kelurahan}  # type: ignore[union-attr]
                return render(
                    request, "registry/outside_kelurahan.html", context, status=403
                )

        return login_required(wrapper)

    return decorate


def _building(request: HttpRequest, building_id: int) -> Building:
    building = get_object_or_404(
        Building.objects.select_related("kelurahan", "unit"), pk=building_id
    )
    if not queries.in_scope(request.user, building):
        raise OutsideKelurahan(building.kelurahan)
    require_at(Service.REGISTRY, building)
    return building


def _household(request: HttpRequest, household_id: int) -> Household:
    household = get_object_or_404(Household, pk=household_id)
    _building(request, household.building_id)
    return household


def _member(request: HttpRequest, member_id: int) -> Member:
    member = get_object_or_404(Member.objects.select_related("household"), pk=member_id)
    _building(request, member.household.building_id)
    return member


def _posted(request: HttpRequest) -> Any:
    # A confirmation form posts nothing but its CSRF token, and an empty
    # QueryDict is falsy, so `request.POST or None` would leave it unbound.
    return request.POST if request.method == "POST" else None


def _to_detail(building: Building | int) -> HttpResponse:
    building_id = building if isinstance(building, int) else building.pk
    return redirect("registry:building_detail", building_id=building_id)


# The list, a building and the map ------------------------------------------------


@registry_page("registry.view_building")
def building_list(request: HttpRequest) -> HttpResponse:
    """Serve the searchable list, or only its results to an HTMX request."""
    form = BuildingFilterForm(request.GET or None, user=request.user)
    filters = form.filters() if form.is_bound else {}
    buildings = queries.with_live_plate(
        queries.filter_buildings(queries.visible_buildings(request.user), filters)
    )
    paginator = Paginator(buildings, filters.get("per_page", DEFAULT_PAGE_SIZE))
    context = {
        "form": form,
        "page": paginator.get_page(request.GET.get("page")),
        "levies": queries.levy_by_code(),
    }
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.boosted:
        return render(request, "registry/partials/building_results.html", context)
    return render(request, "registry/building_list.html", context)


@registry_page("registry.view_building")
def building_detail(request: HttpRequest, building_id: int) -> HttpResponse:
    """Serve a building; `?history=1` adds its ledger entries (HTMX: only those).

    The ledger history is a slow query, so the page asks for it separately.
    """
    building = _building(request, building_id)
    with_history = request.GET.get("history") == "1"
    entries = list(queries.building_entries(building)) if with_history else None
    htmx = getattr(request, "htmx", None)
    if with_history and htmx and not htmx.boosted:
        return render(
            request,
            "registry/partials/building_history.html",
            {"building": building, "entries": entries},
        )

    user = request.user
    unmasked = services.can_see_identity_numbers(user)
    context: dict[str, Any] = {
        "building": building,
        "levy": queries.levy_by_code().get(building.levy_class),
        "plate": services.current_plate(building),
        "plates": building.plates.all(),
        "entries": entries,
        "households": [],
        "residences": [],
    }
    if user.has_perm("registry.view_household"):
        context["households"] = [
            _household_view(household, unmasked, user.has_perm("registry.view_member"))
            for household in building.households.filter(status=Household.Status.ACTIVE)
        ]
        residences = (
            Residence.objects.filter(building=building)
            .select_related("household__building")
            .order_by("-moved_in", "-id")
        )
        context["residences"] = [
            (residence, services.household_kk(residence.household, unmasked=unmasked))
            for residence in residences
        ]
        if unmasked:
            _record_building_identity_view(request, context)
    return render(request, "registry/building_detail.html", context)


def _record_building_identity_view(
    request: HttpRequest, context: dict[str, Any]
) -> None:
    households = [view["household"].pk for view in context["households"]]
    households += [residence.household_id for residence, _kk in context["residences"]]
    members = [
        member.pk for view in context["households"] for member, _nik in view["members"]
    ]
    record_identity_view(
        request.user,
        "registry:building_detail",
        member_ids=members,
        household_ids=households,
        request=request,
    )


def _household_view(
    household: Household, unmasked: bool, with_members: bool
) -> dict[str, Any]:
    members = []
    if with_members:
        members = [
            (member, services.member_nik(member, unmasked=unmasked))
            for member in household.members.filter(status=Member.Status.ACTIVE)
        ]
    return {
        "household": household,
        "kk": services.household_kk(household, unmasked=unmasked),
        "members": members,
    }


def _map_context(request: HttpRequest) -> dict[str, Any]:
    """Return what a map needs: centre, zoom, boundaries, tiles, own kelurahan."""
    city = City.objects.order_by("id").first()
    own = request.user.kelurahan  # type: ignore[union-attr]
    areas = Area.objects.filter(city=city) if city else Area.objects.none()
    return {
        "boundaries": queries.boundary_features(areas),
        "center": [city.center_lat, city.center_lng] if city else [0, 0],
        "zoom": city.default_zoom if city else 14,
        "focus": own.code if own else "",
        "tile_url": settings.KOTACERDAS_MAP_TILE_URL,
        "tile_attribution": settings.KOTACERDAS_MAP_TILE_ATTRIBUTION,
    }


@registry_page("registry.view_building")
def building_map(request: HttpRequest) -> HttpResponse:
    context = {
        "form": BuildingFilterForm(request.GET or None, user=request.user),
        **_map_context(request),
    }
    return render(request, "registry/map.html", context)


@registry_page("registry.view_building")
def map_buildings(request: HttpRequest) -> HttpResponse:
    """GeoJSON of the buildings in view (filters as the list, plus `bbox`)."""
    try:
        bbox = _bounding_box(request.GET.get("bbox", ""))
    except ValueError:
        message = _(
            "bbox must be west,south,east,north in degrees, such as "
            "100.38,-0.49,100.42,-0.45."
        )
        return JsonResponse(
            {"error": {"code": "invalid", "message": message, "field": "bbox"}},
            status=400,
        )
    form = BuildingFilterForm(request.GET, user=request.user)
    buildings = queries.filter_buildings(
        queries.visible_buildings(request.user), form.filters()
    )
    features = queries.map_features(buildings, bbox)
    return JsonResponse({"type": "FeatureCollection", "features": features})


def _bounding_box(text: str) -> queries.BoundingBox | None:
    if not text:
        return None
    west, south, east, north = (float(part) for part in text.split(","))
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise ValueError(text)
    return queries.BoundingBox(west, south, east, north)


# Buildings and plates ------------------------------------------------------------


@registry_page("registry.add_building")
def building_create(request: HttpRequest) -> HttpResponse:
    own = request.user.kelurahan  # type: ignore[union-attr]
    form = BuildingForm(
        _posted(request),
        user=request.user,
        initial={"kelurahan_code": own.code if own else None},
    )
    if request.method == "POST" and form.is_valid():
        data = BuildingInput(**form.cleaned_data)
        try:
            warnings = services.clean_building(data).warnings
            building = services.register_building(data, actor=request.user)
        except RegistryInvalid as error:
            apply_errors(form, error.errors)
        else:
            messages.success(
                request,
                _("Registered the building; its plate code is %(code)s.")
                % {"code": building.plate_code},
            )
            for warning in warnings:
                messages.warning(request, warning.message)
            return _to_detail(building)
    context = {"form": form, **_map_context(request)}
    return render(request, "registry/building_form.html", context)


@registry_page("registry.change_building")
def building_edit(request: HttpRequest, building_id: int) -> HttpResponse:
    building = _building(request, building_id)
    current = dataclasses.asdict(services.building_input(building))
    form = BuildingForm(
        _posted(request),
        user=request.user,
        initial={k: "" if v is None else v for k, v in current.items()},
    )
    if request.method == "POST" and form.is_valid():
        before = services.building_state(building)
        try:
            changed = services.change_building(
                building, form.cleaned_data, actor=request.user
            )
        except RegistryInvalid as error:
            apply_errors(form, error.errors)
        else:
            if services.building_state(changed) == before:
                messages.info(request, _("Nothing was changed."))
            else:
                messages.success(request, _("Saved the building."))
            return _to_detail(building)
    context = {"form": form, "building": building, **_map_context(request)}
    return render(request, "registry/building_form.html", context)


@registry_page("registry.print_plate")
def plate_manage(request: HttpRequest, building_id: int) -> HttpResponse:
    """Revoke the building's plate and issue a new code, or only revoke it."""
    building = _building(request, building_id)
    plate = services.current_plate(building)
    form = PlateForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        reason, note = form.cleaned_data["reason"], form.cleaned_data["note"]
        try:
            if form.cleaned_data["action"] == PlateForm.REISSUE:
                new = services.reissue_plate(building, reason, note, actor=request.user)
                messages.success(
                    request,
                    _("Issued plate %(code)s; print it and fix it to the building.")
                    % {"code": new.code},
                )
                return _to_detail(building)
            if plate is None:
                form.add_error(None, _("This building has no live plate to revoke."))
            else:
                services.revoke_plate(plate, reason, note, actor=request.user)
                messages.success(
                    request, _("Revoked plate %(code)s.") % {"code": plate.code}
                )
                return _to_detail(building)
        except RegistryInvalid as error:
            apply_errors(form, error.errors)
    context = {"form": form, "building": building, "plate": plate}
    return render(request, "registry/building_plate.html", context)


# Households and members ------------------------------------------------------------


@registry_page("registry.add_household")
def household_create(request: HttpRequest, building_id: int) -> HttpResponse:
    """Register a KK with its head and members in one form."""
    building = _building(request, building_id)
    form = HouseholdForm(_posted(request))
    formset = MemberFormSet(
        _posted(request),
        prefix="members",
        initial=[{"relation": Member.Relation.HEAD}],
    )
    valid = form.is_valid() & formset.is_valid()  # both, to show every error
    if request.method == "POST" and valid:
        rows = [(i, f) for i, f in enumerate(formset.forms) if f.has_changed()]
        members = [MemberInput(**f.cleaned_data) for _i, f in rows]
        try:
            household = services.register_household(
                building, form.cleaned_data["kk_number"], members, actor=request.user
            )
        except RegistryInvalid as error:
            _apply_household_errors(form, formset, [i for i, _f in rows], error)
        else:
            messages.success(
                request,
                _("Registered the household with %(count)d members.")
                % {"count": len(members)},
            )
            _warn_unknown_regions(request, members)
            return redirect(
                f"{_to_detail(building)['Location']}#household-{household.pk}"
            )
    context = {"form": form, "formset": formset, "building": building}
    return render(request, "registry/household_form.html", context)


def _apply_household_errors(
    form: HouseholdForm, formset: Any, positions: list[int], error: RegistryInvalid
) -> None:
    # Member errors are named "members.<position>.<field>", where position
    # counts only the rows that were filled in.
    for field_error in error.errors:
        parts = field_error.field.split(".")
        if len(parts) == 3 and parts[0] == "members" and parts[1].isdecimal():
            member_form = formset.forms[positions[int(parts[1])]]
            field = parts[2] if parts[2] in member_form.fields else None
            member_form.add_error(field, field_error.message)
        else:
            apply_errors(form, [field_error])


def _warn_unknown_regions(request: HttpRequest, members: list[MemberInput]) -> None:
    for member in members:
        for warning in services.clean_member(member).warnings:
            messages.warning(request, f"{member.full_name}: {warning.message}")


@registry_page("registry.change_household")
def household_move(request: HttpRequest, household_id: int) -> HttpResponse:
    household = _household(request, household_id)
    form = MoveHouseholdForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        target = _move_target(request, form)
        if target is not None:
            try:
                services.move_household(household, target, actor=request.user)
            except RegistryInvalid as error:
                apply_errors(form, error.errors)
            else:
                messages.success(
                    request,
                    _("Moved the household to %(code)s.") % {"code": target.plate_code},
                )
                return _to_detail(target)
    context = {"form": form, "household": household, "building": household.building}
    return render(request, "registry/household_move.html", context)


def _move_target(request: HttpRequest, form: MoveHouseholdForm) -> Building | None:
    code = form.cleaned_data["plate_code"]
    target = Building.objects.filter(plate_code=code).first()
    if target is None:
        form.add_error(
            "plate_code",
            _("No building has the live plate %(code)s; check the code on the plate.")
            % {"code": code},
        )
        return None
    if not queries.in_scope(request.user, target):
        form.add_error(
            "plate_code",
            _(
                "That building is in Kelurahan %(area)s; you can move households "
                "only within your own kelurahan."
            )
            % {"area": target.kelurahan.name},
        )
        return None
    return target


@registry_page("registry.change_household")
def household_retire(request: HttpRequest, household_id: int) -> HttpResponse:
    household = _household(request, household_id)
    form = ConfirmForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        services.retire_household(household, actor=request.user)
        messages.success(request, _("Retired the household and its members."))
        return _to_detail(household.building_id)
    unmasked = services.can_see_identity_numbers(request.user)
    context = {
        "form": form,
        "household": household,
        "building": household.building,
        "kk": services.household_kk(household, unmasked=unmasked),
    }
    if unmasked:
        record_identity_view(
            request.user,
            "registry:household_retire",
            household_ids=[household.pk],
            request=request,
        )
    return render(request, "registry/household_retire.html", context)


@registry_page("registry.add_member")
def member_create(request: HttpRequest, household_id: int) -> HttpResponse:
    household = _household(request, household_id)
    form = MemberForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        data = MemberInput(**form.cleaned_data)
        try:
            services.add_member(household, data, actor=request.user)
        except RegistryInvalid as error:
            apply_errors(form, error.errors)
        else:
            messages.success(request, _("Added %(name)s.") % {"name": data.full_name})
            _warn_unknown_regions(request, [data])
            return _to_detail(household.building_id)
    context = {"form": form, "household": household, "building": household.building}
    return render(request, "registry/member_form.html", context)


@registry_page("registry.change_member")
def member_edit(request: HttpRequest, member_id: int) -> HttpResponse:
    member = _member(request, member_id)
    unmasked = services.can_see_identity_numbers(request.user)
    form = MemberForm(
        _posted(request),
        initial={
            "full_name": member.full_name,
            "nik": services.member_nik(member, unmasked=True) if unmasked else "",
            "relation": member.relation,
            "phone": member.phone,
        },
    )
    # A user who may not see the NIK may still correct it, but the field
    # starts empty for her, and an empty field keeps the NIK on record.
    if request.method == "POST" and form.is_valid():
        changes = {k: v for k, v in form.cleaned_data.items() if k != "nik" or v}
        try:
            services.change_member(member, changes, actor=request.user)
        except RegistryInvalid as error:
            apply_errors(form, error.errors)
        else:
            messages.success(
                request, _("Saved %(name)s.") % {"name": changes["full_name"]}
            )
            return _to_detail(member.household.building_id)
    context = {"form": form, "member": member, "household": member.household}
    context["building"] = member.household.building
    if unmasked:
        record_identity_view(
            request.user,
            "registry:member_edit",
            member_ids=[member.pk],
            request=request,
        )
    return render(request, "registry/member_form.html", context)


@registry_page("registry.change_member")
def member_remove(request: HttpRequest, member_id: int) -> HttpResponse:
    member = _member(request, member_id)
    form = ConfirmForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        services.remove_member(member, actor=request.user)
        messages.success(request, _("Removed %(name)s.") % {"name": member.full_name})
        return _to_detail(member.household.building_id)
    context = {"form": form, "member": member, "building": member.household.building}
    return render(request, "registry/member_remove.html", context)
