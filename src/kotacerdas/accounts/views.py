"""Sign-in and the home page that each role lands on."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from kotacerdas.accounts.roles import ROLES


@login_required
def home(request: HttpRequest) -> HttpResponse:
    held = set(request.user.groups.values_list("name", flat=True))
    roles = [role for role in ROLES if role.name in held]
    return render(request, "accounts/home.html", {"roles": roles})
