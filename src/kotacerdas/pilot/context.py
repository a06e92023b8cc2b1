"""Template context: which services the navigation shows to this user."""

from typing import Any

from django.http import HttpRequest

from kotacerdas.pilot import areas, switch
from kotacerdas.pilot.services import Scope, Service

# Services a citizen or merchant uses at home; their links follow the user's
# address. Staff services list many areas, so their links stay while any
# area runs them.
PERSONAL = {Service.WALLET, Service.LEVY_WALLET, Service.WASTE_BANK}


class ServicesOn:
    """Map each service code to whether this user's navigation shows it.

    Computed on first lookup, so a page that shows no switched link pays
    one query for the scopes and nothing else.
    """

    def __init__(self, user: Any) -> None:
        self.user = user
        self.answers: dict[str, bool] = {}
        self.address: areas.Address | None = None

    def __getitem__(self, service: str) -> bool:
        if service not in self.answers:
            self.answers[service] = self._compute(service)
        return self.answers[service]

    def _compute(self, service: str) -> bool:
        if service not in Service.values:
            raise KeyError(service)
        if switch.scope_of(service) == Scope.EVERYWHERE:
            return True
        if service in PERSONAL:
            if self.address is None:
                self.address = areas.of_user(self.user)
            if self.address.kelurahan_code:
                return switch.is_enabled(
                    service,
                    kelurahan_code=self.address.kelurahan_code,
                    rw=self.address.rw,
                    rt=self.address.rt,
                )
        return switch.is_enabled_anywhere(service)


def services_on(request: HttpRequest) -> dict[str, object]:
    """Add `pilot_on`, read as `pilot_on.wallet` in templates."""
    return {"pilot_on": ServicesOn(getattr(request, "user", None))}
