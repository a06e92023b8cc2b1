"""Whether a service runs at an address: the one check every app asks.

A service whose scope is "everywhere" (the default, with no `ServiceScope`
row) runs in every area. A service scoped to pilot areas runs only at an
address that lies in an area of a pilot that runs that day and has the
service switched on. A pilot runs from `starts_on` to `ends_on`, both
included, unless it was ended: from the day it ended it runs no more.

An object with no area (a citizen with no registered residence, a site that
serves the whole city) lies outside every pilot area, so a service scoped to
pilot areas is off for it. Pages that list many areas ask `is_enabled_anywhere`.

Within a request the scopes and running pilots are read once; the cache
starts empty with each request and is dropped when the request finishes,
so a worker or shell always reads fresh rows.
"""

import datetime
import threading
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.signals import request_finished, request_started
from django.utils import timezone
from django.utils.translation import gettext as _

from kotacerdas.pilot.services import Scope, Service

_local = threading.local()


class ServiceOff(PermissionDenied):
    """A service is switched off at an address; the message names both.

    Pages turn it into a 403 page (`pilot.middleware`), and the API into a
    403 error body with code "service_off" (`config.api`).
    """

    def __init__(self, service: str, area: str) -> None:
        self.service = service
        self.area = area
        super().__init__(
            _(
                "%(service)s is not available in %(area)s: the city runs it only "
                "in pilot areas."
            )
            % {"service": service_label(service), "area": area}
        )


@dataclass(frozen=True)
class _RunningArea:
    kelurahan_code: str
    rw: str
    rt: str
    services: frozenset[str]
    starts_on: datetime.date
    ends_on: datetime.date
    # The local date the pilot was ended on, or None while it runs.
    ended_on: datetime.date | None

    def runs(self, service: str, on: datetime.date) -> bool:
        if service not in self.services:
            return False
        if not self.starts_on <= on <= self.ends_on:
            return False
        return self.ended_on is None or on < self.ended_on

    def covers(self, kelurahan_code: str, rw: str, rt: str) -> bool:
        if kelurahan_code != self.kelurahan_code:
            return False
        if self.rw and rw != self.rw:
            return False
        return not self.rt or rt == self.rt


def service_label(service: str) -> str:
    return str(Service(service).label) if service in Service.values else service


def area_label(kelurahan_code: str | None, rw: str = "", rt: str = "") -> str:
    """Name an address for a message: the kelurahan's name, RW and RT."""
    from kotacerdas.city.models import Area

    if not kelurahan_code:
        return _("an address outside every kelurahan")
    name = (
        Area.objects.filter(code=kelurahan_code).values_list("name", flat=True).first()
    )
    text = _("kelurahan %(name)s") % {"name": name or kelurahan_code}
    if rw and rt:
        return _("%(kelurahan)s RT %(rt)s/RW %(rw)s") % {
            "kelurahan": text,
            "rt": rt,
            "rw": rw,
        }
    if rw:
        return _("%(kelurahan)s RW %(rw)s") % {"kelurahan": text, "rw": rw}
    return text


# Cache ----------------------------------------------------------------------


def _start_cache(**kwargs: Any) -> None:
    _local.cache = {}


def _stop_cache(**kwargs: Any) -> None:
    _local.cache = None


request_started.connect(_start_cache, dispatch_uid="pilot-switch-start")
request_finished.connect(_stop_cache, dispatch_uid="pilot-switch-stop")


def forget() -> None:
    """Drop what this request read, after a pilot or scope changed."""
    if getattr(_local, "cache", None) is not None:
        _local.cache = {}


def _cached(key: str, load: Any) -> Any:
    cache = getattr(_local, "cache", None)
    if cache is None:
        return load()
    if key not in cache:
        cache[key] = load()
    return cache[key]


def _load_scopes() -> dict[str, str]:
    from kotacerdas.pilot.models import ServiceScope

    return dict(ServiceScope.objects.values_list("service", "scope"))


def _load_areas() -> list[_RunningArea]:
    from kotacerdas.pilot.models import PilotArea

    rows = PilotArea.objects.select_related("pilot").order_by("id")
    return [
        _RunningArea(
            kelurahan_code=row.kelurahan_code,
            rw=row.rw,
            rt=row.rt,
            services=frozenset(row.pilot.services),
            starts_on=row.pilot.starts_on,
            ends_on=row.pilot.ends_on,
            ended_on=(
                timezone.localdate(row.pilot.ended_at)
                if row.pilot.ended_at is not None
                else None
            ),
        )
        for row in rows
    ]


# Questions ------------------------------------------------------------------


def scope_of(service: str) -> str:
    return str(_cached("scopes", _load_scopes).get(service, Scope.EVERYWHERE))


def is_enabled(
    service: str,
    *,
    kelurahan_code: str | None,
    rw: str = "",
    rt: str = "",
    on: datetime.date | None = None,
) -> bool:
    """Return whether `service` runs at that address on day `on` (today)."""
    if scope_of(service) == Scope.EVERYWHERE:
        return True
    if not kelurahan_code:
        return False
    day = on or timezone.localdate()
    return any(
        area.runs(service, day) and area.covers(kelurahan_code, rw or "", rt or "")
        for area in _cached("areas", _load_areas)
    )


def is_enabled_anywhere(service: str, *, on: datetime.date | None = None) -> bool:
    """Return whether `service` runs in at least one area on day `on` (today).

    Navigation uses this: a page that lists many areas stays reachable while
    any area still runs the service.
    """
    if scope_of(service) == Scope.EVERYWHERE:
        return True
    day = on or timezone.localdate()
    return any(area.runs(service, day) for area in _cached("areas", _load_areas))


def require(
    service: str,
    *,
    kelurahan_code: str | None,
    rw: str = "",
    rt: str = "",
    on: datetime.date | None = None,
) -> None:
    """Raise `ServiceOff` unless `service` runs at that address on day `on`."""
    if not is_enabled(service, kelurahan_code=kelurahan_code, rw=rw, rt=rt, on=on):
        raise ServiceOff(service, area_label(kelurahan_code, rw, rt))


def require_anywhere(service: str) -> None:
    """Raise `ServiceOff` unless `service` runs in at least one area today."""
    if not is_enabled_anywhere(service):
        raise ServiceOff(service, _("any area of the city"))
