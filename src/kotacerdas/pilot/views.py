"""Admin pages of pilots and service scopes, under /pilot/.

Every page needs `pilot.manage_pilot` (the admin role). Writes go through
`pilot.services_api`, whose field errors are shown on the form fields.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kotacerdas.city.models import Area
from kotacerdas.pilot import services_api, switch
from kotacerdas.pilot.forms import GrowForm, PilotForm, ScopeForm
from kotacerdas.pilot.models import Pilot
from kotacerdas.pilot.services import Service
from kotacerdas.registry.forms import apply_errors

View = Callable[..., HttpResponse]
MANAGE = "pilot.manage_pilot"


def manager_page(view: View) -> View:
    """Require sign-in and `pilot.manage_pilot` (403 without it)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.has_perm(MANAGE):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def _status(pilot: Pilot) -> str:
    today = timezone.localdate()
    if pilot.ended_at is not None:
        return _("Ended")
    if today < pilot.starts_on:
        return _("Planned")
    if today > pilot.ends_on:
        return _("Finished")
    return _("Running")


def _area_names() -> dict[str, str]:
    return dict(
        Area.objects.filter(level=Area.Level.KELURAHAN).values_list("code", "name")
    )


@manager_page
def pilot_list(request: HttpRequest) -> HttpResponse:
    pilots = Pilot.objects.prefetch_related("areas")
    rows = [{"pilot": pilot, "status": _status(pilot)} for pilot in pilots]
    scopes = [(label, switch.scope_of(code), code) for code, label in Service.choices]
    return render(
        request,
        "pilot/list.html",
        {"rows": rows, "scopes": scopes, "area_names": _area_names()},
    )


def _pilot_input(form: PilotForm) -> services_api.PilotInput:
    data = form.cleaned_data
    return services_api.PilotInput(
        slug=data["slug"],
        name=data["name"],
        starts_on=data["starts_on"],
        ends_on=data["ends_on"],
        services=data["services"],
        areas=form.area_lines(),
        notes=data["notes"],
    )


def _initial(pilot: Pilot) -> dict[str, Any]:
    return {
        "slug": pilot.slug,
        "name": pilot.name,
        "starts_on": pilot.starts_on.isoformat(),
        "ends_on": pilot.ends_on.isoformat(),
        "services": pilot.services,
        "areas": "\n".join(
            services_api.area_key(area).rstrip("/") for area in pilot.areas.all()
        ),
        "notes": pilot.notes,
    }


@manager_page
@require_http_methods(["GET", "POST"])
def pilot_edit(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    pilot = get_object_or_404(Pilot, slug=slug) if slug else None
    if pilot is not None and pilot.ended_at is not None:
        messages.error(request, _("This pilot has ended and can no longer change."))
        return redirect("pilot:detail", slug=pilot.slug)
    form = PilotForm(request.POST or None, initial=_initial(pilot) if pilot else None)
    if request.method == "POST" and form.is_valid():
        try:
            if pilot is None:
                pilot = services_api.create_pilot(
                    _pilot_input(form), actor=request.user
                )
                messages.success(request, _("Created the pilot."))
            else:
                pilot = services_api.change_pilot(
                    pilot, _pilot_input(form), actor=request.user
                )
                messages.success(request, _("Saved the pilot."))
        except services_api.PilotInvalid as invalid:
            apply_errors(form, invalid.errors)
        else:
            return redirect("pilot:detail", slug=pilot.slug)
    title = (
        _("New pilot")
        if pilot is None
        else _("Change pilot %(name)s") % {"name": pilot.name}
    )
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "pilot/form.html",
        {"form": form, "title": title, "pilot": pilot},
        status=status,
    )


@manager_page
def pilot_detail(request: HttpRequest, slug: str) -> HttpResponse:
    pilot = get_object_or_404(Pilot.objects.prefetch_related("areas"), slug=slug)
    names = _area_names()
    areas = [(area, names.get(area.kelurahan_code, "")) for area in pilot.areas.all()]
    return render(
        request,
        "pilot/detail.html",
        {
            "pilot": pilot,
            "status": _status(pilot),
            "areas": areas,
            "grow_form": GrowForm(),
        },
    )


@manager_page
@require_POST
def pilot_grow(request: HttpRequest, slug: str) -> HttpResponse:
    pilot = get_object_or_404(Pilot, slug=slug)
    form = GrowForm(request.POST)
    if form.is_valid():
        try:
            services_api.grow_pilot(pilot, form.area_lines(), actor=request.user)
        except services_api.PilotInvalid as invalid:
            apply_errors(form, invalid.errors)
        else:
            messages.success(request, _("Added the areas to the pilot."))
            return redirect("pilot:detail", slug=pilot.slug)
    names = _area_names()
    areas = [(area, names.get(area.kelurahan_code, "")) for area in pilot.areas.all()]
    context = {
        "pilot": pilot,
        "status": _status(pilot),
        "areas": areas,
        "grow_form": form,
    }
    return render(request, "pilot/detail.html", context, status=422)


@manager_page
@require_POST
def pilot_end(request: HttpRequest, slug: str) -> HttpResponse:
    pilot = get_object_or_404(Pilot, slug=slug)
    try:
        services_api.end_pilot(pilot, actor=request.user)
    except services_api.PilotInvalid as invalid:
        for error in invalid.errors:
            messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Ended the pilot. Its areas and everything recorded in them are kept."),
        )
    return redirect("pilot:detail", slug=pilot.slug)


def _warn_if_off_everywhere(request: HttpRequest) -> None:
    """Warn about a service limited to pilot areas that no pilot runs today."""
    for code, label in Service.choices:
        if not switch.is_enabled_anywhere(code):
            messages.warning(
                request,
                _(
                    "%(service)s now runs nowhere: no pilot running today has it "
                    "switched on."
                )
                % {"service": label},
            )


@manager_page
@require_http_methods(["GET", "POST"])
def scopes(request: HttpRequest) -> HttpResponse:
    current = {code: switch.scope_of(code) for code in Service.values}
    form = ScopeForm(request.POST or None, scopes=current)
    if request.method == "POST" and form.is_valid():
        try:
            for code in Service.values:
                services_api.set_scope(
                    code, form.cleaned_data[code], actor=request.user
                )
        except services_api.PilotInvalid as invalid:
            apply_errors(form, invalid.errors)
        else:
            messages.success(request, _("Saved where each service runs."))
            _warn_if_off_everywhere(request)
            return redirect("pilot:list")
    status = 422 if request.method == "POST" else 200
    return render(request, "pilot/scopes.html", {"form": form}, status=status)
