"""Create, change, grow and end pilots, and set each service's scope.

These are the only write paths of the pilot tables. Each function checks
every field first and raises `PilotInvalid` with one `FieldError` per
problem (the field's name and a translated message saying how to fix it),
or writes the rows and appends one `pilot.*` event in the same transaction.
Nothing here deletes data recorded by other apps: ending or growing a pilot
only changes the pilot's own rows.
"""

import datetime
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kotacerdas.city.codes import InvalidAreaCode, normalize_code
from kotacerdas.city.models import Area
from kotacerdas.journal import services as journal
from kotacerdas.pilot import switch
from kotacerdas.pilot.events import (
    PilotChanged,
    PilotCreated,
    PilotEnded,
    PilotGrown,
    ScopeChanged,
)
from kotacerdas.pilot.models import Pilot, PilotArea, ServiceScope
from kotacerdas.pilot.services import Scope, Service
from kotacerdas.registry.services import FieldError, actor_label

logger = logging.getLogger(__name__)

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
UNIT_NUMBER = re.compile(r"^[0-9]{1,3}$")
# A trial usually runs one to three months; a year leaves room to extend it.
MAX_PILOT_DAYS = 366
MAX_AREAS = 500
# Path segments of the management pages that a slug must not take.
RESERVED_SLUGS = {"new", "scopes"}


class PilotInvalid(ValueError):
    """Input failed validation; `errors` names each field and the fix."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


@dataclass(frozen=True, order=True)
class AreaInput:
    """A kelurahan, or an RW in it, or an RT in that RW, as typed."""

    kelurahan_code: str
    rw: str = ""
    rt: str = ""

    def key(self) -> str:
        return f"{self.kelurahan_code}/{self.rw}/{self.rt}"


@dataclass(frozen=True)
class PilotInput:
    """A pilot as typed in the management form or written by the demo."""

    slug: str
    name: str
    starts_on: Any
    ends_on: Any
    services: Sequence[str]
    areas: Sequence[AreaInput | str]
    notes: str = ""


def parse_area(text: str) -> AreaInput:
    """Read "13.74.02.1006", "13.74.02.1006/3" or "13.74.02.1006/003/001".

    Only splits the text; `clean_areas` checks the parts.
    """
    parts = [part.strip() for part in str(text).strip().split("/")]
    if len(parts) > 3:
        # Left whole so that the kelurahan check names what was typed.
        return AreaInput(str(text).strip())
    parts += ["", ""]
    return AreaInput(parts[0], parts[1], parts[2])


def area_key(area: PilotArea) -> str:
    return f"{area.kelurahan_code}/{area.rw}/{area.rt}"


# Checks ---------------------------------------------------------------------


def _date(value: Any, field: str, errors: list[FieldError]) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value or "").strip())
    except ValueError:
        errors.append(FieldError(field, _("Enter a date as YYYY-MM-DD.")))
        return None


def _dates(
    starts_value: Any, ends_value: Any, errors: list[FieldError]
) -> tuple[datetime.date | None, datetime.date | None]:
    starts_on = _date(starts_value, "starts_on", errors)
    ends_on = _date(ends_value, "ends_on", errors)
    if starts_on is None or ends_on is None:
        return starts_on, ends_on
    if ends_on < starts_on:
        errors.append(
            FieldError("ends_on", _("The end date must be on or after the start date."))
        )
    elif (ends_on - starts_on).days + 1 > MAX_PILOT_DAYS:
        errors.append(
            FieldError(
                "ends_on",
                _("A pilot runs at most %(days)s days; choose an earlier end date.")
                % {"days": MAX_PILOT_DAYS},
            )
        )
    return starts_on, ends_on


def _services(values: Iterable[str], errors: list[FieldError]) -> list[str]:
    chosen = {str(value).strip() for value in values}
    unknown = sorted(chosen - set(Service.values))
    if unknown:
        errors.append(
            FieldError(
                "services",
                _("Unknown service %(codes)s; choose from %(known)s.")
                % {"codes": ", ".join(unknown), "known": ", ".join(Service.values)},
            )
        )
    if not chosen:
        errors.append(FieldError("services", _("Choose at least one service.")))
    # Keep the enum's order so equal sets journal equal lists.
    return [code for code in Service.values if code in chosen]


def _unit_number(value: str, field: str, errors: list[FieldError]) -> str:
    text = value.strip()
    if not text:
        return ""
    if not UNIT_NUMBER.match(text) or int(text) == 0:
        errors.append(
            FieldError(
                field,
                _("Enter %(unit)s as a number from 1 to 999, such as 003.")
                % {"unit": field.upper()},
            )
        )
        return text
    return f"{int(text):03d}"


def _kelurahan_code(value: str, errors: list[FieldError]) -> str:
    try:
        code = normalize_code(value)
    except InvalidAreaCode:
        code = ""
    level = (
        Area.objects.filter(code=code).values_list("level", flat=True).first()
        if code
        else None
    )
    if level is None:
        errors.append(
            FieldError(
                "areas",
                _(
                    "Unknown kelurahan code %(code)s; enter a kelurahan code of "
                    "this city, such as 13.74.02.1006."
                )
                % {"code": value.strip() or "-"},
            )
        )
    elif level == Area.Level.KECAMATAN:
        errors.append(
            FieldError(
                "areas",
                _("%(code)s is a kecamatan; enter the codes of its kelurahan.")
                % {"code": code},
            )
        )
    return code


def clean_areas(
    values: Iterable[AreaInput | str], errors: list[FieldError]
) -> list[AreaInput]:
    """Return the areas checked, zero-padded and without repeats, in code order."""
    areas: set[AreaInput] = set()
    for value in values:
        area = parse_area(value) if isinstance(value, str) else value
        if not area.kelurahan_code.strip():
            continue
        code = _kelurahan_code(area.kelurahan_code, errors)
        rw = _unit_number(area.rw, "rw", errors)
        rt = _unit_number(area.rt, "rt", errors)
        if rt and not rw:
            errors.append(
                FieldError("rt", _("Enter the RW of RT %(rt)s too.") % {"rt": rt})
            )
        areas.add(AreaInput(code, rw, rt))
    if not areas:
        errors.append(FieldError("areas", _("Choose at least one kelurahan.")))
    if len(areas) > MAX_AREAS:
        errors.append(
            FieldError(
                "areas",
                _("A pilot has at most %(count)s areas.") % {"count": MAX_AREAS},
            )
        )
    return sorted(areas)


def _overlaps(a: AreaInput, b: PilotArea) -> bool:
    """Return whether two areas share any address: one contains the other."""
    if a.kelurahan_code != b.kelurahan_code:
        return False
    if a.rw and b.rw and a.rw != b.rw:
        return False
    return not (a.rt and b.rt and a.rt != b.rt)


def _check_overlap(
    pilot: Pilot | None,
    starts_on: datetime.date,
    ends_on: datetime.date,
    areas: list[AreaInput],
    errors: list[FieldError],
) -> None:
    """Reject an area that another pilot covers on any of the same days.

    Two pilots on the same street at once would count its figures twice and
    leave unclear which pilot's services run there.
    """
    others = (
        PilotArea.objects.select_related("pilot")
        .filter(
            kelurahan_code__in={area.kelurahan_code for area in areas},
            pilot__starts_on__lte=ends_on,
            pilot__ends_on__gte=starts_on,
        )
        .exclude(pilot_id=pilot.pk if pilot is not None else 0)
    )
    for other in others:
        for area in areas:
            if _overlaps(area, other):
                errors.append(
                    FieldError(
                        "areas",
                        _(
                            "Area %(area)s overlaps pilot %(pilot)s (%(other)s) "
                            "between %(starts)s and %(ends)s; choose other areas "
                            "or dates."
                        )
                        % {
                            "area": area.key().rstrip("/"),
                            "pilot": other.pilot.slug,
                            "other": area_key(other).rstrip("/"),
                            "starts": other.pilot.starts_on.isoformat(),
                            "ends": other.pilot.ends_on.isoformat(),
                        },
                    )
                )
                return


def _clean(data: PilotInput, pilot: Pilot | None) -> dict[str, Any]:
    """Check every field of a pilot and return the cleaned values.

    Raises `PilotInvalid` with one error per field that is wrong.
    """
    errors: list[FieldError] = []
    slug = str(data.slug or "").strip().lower()
    if not SLUG.match(slug) or slug in RESERVED_SLUGS:
        errors.append(
            FieldError(
                "slug",
                _(
                    "Enter a slug of lowercase letters, digits and dashes, at most "
                    "40 characters, such as pilot-2027-q1."
                ),
            )
        )
    elif Pilot.objects.filter(slug=slug).exclude(pk=pilot.pk if pilot else 0).exists():
        errors.append(FieldError("slug", _("Another pilot already has this slug.")))

    name = " ".join(str(data.name or "").split())
    if not name or len(name) > 120:
        errors.append(FieldError("name", _("Enter a name of 1 to 120 characters.")))
    starts_on, ends_on = _dates(data.starts_on, data.ends_on, errors)
    services = _services(data.services, errors)

    # The overlap check needs only valid dates and areas, so its error is
    # reported together with the other fields' errors.
    area_errors: list[FieldError] = []
    areas = clean_areas(data.areas, area_errors)
    errors.extend(area_errors)
    if starts_on and ends_on and not area_errors:
        _check_overlap(pilot, starts_on, ends_on, areas, errors)
    if errors:
        raise PilotInvalid(errors)

    return {
        "slug": slug,
        "name": name,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "services": services,
        "notes": str(data.notes or "").strip()[:4000],
        "areas": areas,
    }


def _reject_ended(pilot: Pilot) -> None:
    if pilot.ended_at is not None:
        raise PilotInvalid(
            [
                FieldError(
                    "ends_on",
                    _("Pilot %(slug)s has ended; create a new pilot instead.")
                    % {"slug": pilot.slug},
                )
            ]
        )


# Writes ---------------------------------------------------------------------


def _state(pilot: Pilot) -> dict[str, Any]:
    return {
        "pilot_id": pilot.pk,
        "slug": pilot.slug,
        "starts_on": pilot.starts_on.isoformat(),
        "ends_on": pilot.ends_on.isoformat(),
        "services": list(pilot.services),
        "areas": [area_key(area) for area in pilot.areas.order_by("id")],
    }


def _save(pilot: Pilot, values: dict[str, Any]) -> None:
    areas = values.pop("areas")
    for name, value in values.items():
        setattr(pilot, name, value)
    try:
        with transaction.atomic():
            pilot.save()
    except IntegrityError:
        raise PilotInvalid(
            [FieldError("slug", _("Another pilot already has this slug."))]
        ) from None
    kept = {area_key(area): area for area in pilot.areas.all()}
    wanted = {area.key() for area in areas}
    PilotArea.objects.filter(
        pk__in=[a.pk for k, a in kept.items() if k not in wanted]
    ).delete()
    PilotArea.objects.bulk_create(
        PilotArea(pilot=pilot, kelurahan_code=a.kelurahan_code, rw=a.rw, rt=a.rt)
        for a in areas
        if a.key() not in kept
    )


def create_pilot(data: PilotInput, *, actor: Any = None) -> Pilot:
    """Create a pilot with its areas and journal `pilot.pilot.created`."""
    values = _clean(data, None)
    with transaction.atomic():
        pilot = Pilot()
        _save(pilot, values)
        journal.append(
            "pilot.pilot.created",
            PilotCreated(**_state(pilot)),
            actor=actor_label(actor),
        )
    switch.forget()
    logger.info("created pilot %s", pilot.pk, extra={"pilot_id": pilot.pk})
    return pilot


def change_pilot(pilot: Pilot, data: PilotInput, *, actor: Any = None) -> Pilot:
    """Change a pilot that has not ended and journal `pilot.pilot.changed`.

    Areas left out of `data` stop taking part; what was recorded in them stays.
    """
    _reject_ended(pilot)
    values = _clean(data, pilot)
    with transaction.atomic():
        pilot = Pilot.objects.select_for_update().get(pk=pilot.pk)
        _reject_ended(pilot)
        _save(pilot, values)
        journal.append(
            "pilot.pilot.changed",
            PilotChanged(**_state(pilot)),
            actor=actor_label(actor),
        )
    switch.forget()
    logger.info("changed pilot %s", pilot.pk, extra={"pilot_id": pilot.pk})
    return pilot


def grow_pilot(
    pilot: Pilot, areas: Sequence[AreaInput | str], *, actor: Any = None
) -> Pilot:
    """Add areas to a pilot that has not ended and journal `pilot.pilot.grown`."""
    _reject_ended(pilot)
    errors: list[FieldError] = []
    added = clean_areas(areas, errors)
    existing = {area_key(area) for area in pilot.areas.all()}
    added = [area for area in added if area.key() not in existing]
    if not errors:
        _check_overlap(pilot, pilot.starts_on, pilot.ends_on, added, errors)
    if not errors and not added:
        errors.append(FieldError("areas", _("The pilot already has these areas.")))
    if errors:
        raise PilotInvalid(errors)

    with transaction.atomic():
        pilot = Pilot.objects.select_for_update().get(pk=pilot.pk)
        _reject_ended(pilot)
        PilotArea.objects.bulk_create(
            PilotArea(pilot=pilot, kelurahan_code=a.kelurahan_code, rw=a.rw, rt=a.rt)
            for a in added
        )
        journal.append(
            "pilot.pilot.grown",
            PilotGrown(
                pilot_id=pilot.pk,
                slug=pilot.slug,
                added_areas=[area.key() for area in added],
                areas=_state(pilot)["areas"],
            ),
            actor=actor_label(actor),
        )
    switch.forget()
    logger.info("grew pilot %s", pilot.pk, extra={"pilot_id": pilot.pk})
    return pilot


def end_pilot(pilot: Pilot, *, actor: Any = None) -> Pilot:
    """End a pilot now and journal `pilot.pilot.ended`.

    Its services stop in its areas from today. `ends_on` becomes today, or the
    start date for a pilot that had not started, so trial figures cover the
    days it ran. The pilot, its areas and every recorded row stay.
    """
    _reject_ended(pilot)
    today = timezone.localdate()
    with transaction.atomic():
        pilot = Pilot.objects.select_for_update().get(pk=pilot.pk)
        _reject_ended(pilot)
        pilot.ends_on = max(pilot.starts_on, min(pilot.ends_on, today))
        pilot.ended_at = timezone.now()
        pilot.save(update_fields=["ends_on", "ended_at"])
        journal.append(
            "pilot.pilot.ended",
            PilotEnded(
                pilot_id=pilot.pk, slug=pilot.slug, ends_on=pilot.ends_on.isoformat()
            ),
            actor=actor_label(actor),
        )
    switch.forget()
    logger.info("ended pilot %s", pilot.pk, extra={"pilot_id": pilot.pk})
    return pilot


def set_scope(service: str, scope: str, *, actor: Any = None) -> ServiceScope:
    """Set where a service runs and journal `pilot.scope.changed` if it changed."""
    errors: list[FieldError] = []
    if service not in Service.values:
        errors.append(FieldError("service", _("Choose a service from the list.")))
    if scope not in Scope.values:
        errors.append(
            FieldError(
                "scope",
                _("Choose “%(everywhere)s” or “%(pilot_areas)s”.")
                % {"everywhere": Scope.EVERYWHERE, "pilot_areas": Scope.PILOT_AREAS},
            )
        )
    if errors:
        raise PilotInvalid(errors)

    with transaction.atomic():
        row, created = ServiceScope.objects.select_for_update().get_or_create(
            service=service
        )
        if row.scope != scope or created:
            row.scope = scope
            row.save()
            journal.append(
                "pilot.scope.changed",
                ScopeChanged(service=service, scope=scope),
                actor=actor_label(actor),
            )
    switch.forget()
    logger.info("set scope of %s to %s", service, scope)
    return row
