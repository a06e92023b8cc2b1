"""Sign-in and the home page that each role lands on."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from kotacerdas.accounts.roles import ROLES
from kotacerdas.pilot.views_trial import reportable_pilots
from kotacerdas.registry.queries import registry_counts
from kotacerdas.waste.views_home import page_links

# Roles whose daily work is in the waste service: their home page lists the
# waste pages. Other roles keep their home page as it was.
WASTE_ROLES = frozenset({"waste_operator", "collector", "waste_bank_teller"})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    held = set(request.user.groups.values_list("name", flat=True))
    roles = [role for role in ROLES if role.name in held]
    counts = None
    if request.user.has_perm("registry.view_building"):
        # Kelurahan staff see their kelurahan; city-wide roles the whole city.
        counts = registry_counts(request.user.kelurahan)  # type: ignore[union-attr]
    waste_links = page_links(request.user) if held & WASTE_ROLES else []
    context = {
        "roles": roles,
        "registry_counts": counts,
        "waste_links": waste_links,
        "trial_reports": reportable_pilots(request.user),
    }
    return render(request, "accounts/home.html", context)
