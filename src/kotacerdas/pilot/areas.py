"""The address of each object a service acts on, for the service switch.

- A building (registry, plates, pickups, levy): its kelurahan, RW and RT.
- A levy bill: its building's address.
- A container (pickups, sensors): its kelurahan.
- A site or waste-bank unit: the site's kelurahan.
- A wallet account or a user (wallet): the building of the registry member
  it belongs to, or else the user's kelurahan (merchants and staff).

An object with none of these has no address; `switch.is_enabled` treats it
as outside every pilot area.
"""

from dataclasses import dataclass
from typing import Any

from kotacerdas.pilot import switch
from kotacerdas.pilot.services import Scope


@dataclass(frozen=True)
class Address:
    kelurahan_code: str | None
    rw: str = ""
    rt: str = ""


NOWHERE = Address(None)


def _code(area: Any) -> str | None:
    return area.code if area is not None else None


def of_building(building: Any) -> Address:
    unit = building.unit
    return Address(building.kelurahan.code, unit.rw, unit.rt)


def of_member(member: Any) -> Address:
    if member is None:
        return NOWHERE
    return of_building(member.household.building)


def of_user(user: Any) -> Address:
    """Return where a signed-in person lives, or their kelurahan as staff."""
    if user is None or not getattr(user, "pk", None):
        return NOWHERE
    from kotacerdas.registry.models import Member

    member = (
        Member.objects.select_related(
            "household__building__kelurahan", "household__building__unit"
        )
        .filter(user=user, status=Member.Status.ACTIVE)
        .first()
    )
    if member is not None:
        return of_member(member)
    return Address(_code(getattr(user, "kelurahan", None)))


def of_account(account: Any) -> Address:
    if account.member_id is not None:
        return of_member(account.member)
    return of_user(account.holder)


def address_of(target: Any) -> Address:
    """Return the address of a building, bill, container, site, unit or account."""
    from kotacerdas.levy.models import Bill
    from kotacerdas.registry.models import Building
    from kotacerdas.wallet.models import Account
    from kotacerdas.waste.bank.models import Unit
    from kotacerdas.waste.models import Container, Site

    if isinstance(target, Building):
        return of_building(target)
    if isinstance(target, Bill):
        return of_building(target.building)
    if isinstance(target, Container | Site):
        return Address(_code(target.kelurahan))
    if isinstance(target, Unit):
        return Address(_code(target.site.kelurahan))
    if isinstance(target, Account):
        return of_account(target)
    return of_user(target)


def require_at(service: str, target: Any) -> None:
    """Raise `switch.ServiceOff` unless `service` runs at `target`'s address."""
    if switch.scope_of(service) == Scope.EVERYWHERE:
        return
    address = address_of(target)
    switch.require(
        service,
        kelurahan_code=address.kelurahan_code,
        rw=address.rw,
        rt=address.rt,
    )


def enabled_at(service: str, target: Any) -> bool:
    if switch.scope_of(service) == Scope.EVERYWHERE:
        return True
    address = address_of(target)
    return switch.is_enabled(
        service, kelurahan_code=address.kelurahan_code, rw=address.rw, rt=address.rt
    )


def require_at_typed(service: str, kelurahan_code: Any, rw: Any, rt: Any) -> None:
    """Check an address as typed in a request, before the object exists.

    A value that does not parse is left to the service's own field checks,
    which name it. Only a valid address is checked against the pilots.
    """
    if switch.scope_of(service) == Scope.EVERYWHERE:
        return
    from kotacerdas.city.codes import InvalidAreaCode, normalize_code

    try:
        code = normalize_code(str(kelurahan_code or ""))
    except InvalidAreaCode:
        return
    parts = []
    for value in (rw, rt):
        text = str(value or "").strip()
        parts.append(f"{int(text):03d}" if text.isdigit() and len(text) <= 3 else "")
    switch.require(service, kelurahan_code=code, rw=parts[0], rt=parts[1])
