"""Access to the command center: the permission command.view_dashboard.

The command-center, admin and auditor roles have it. Anyone else signed in
gets the 403 page, and anyone not signed in goes to the login page.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

PERMISSION = "command.view_dashboard"

View = Callable[..., HttpResponse]


def dashboard_view(view: View) -> View:
    """Wrap a page view so that only dashboard viewers reach it."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.has_perm(PERMISSION):
            raise PermissionDenied(PERMISSION)
        return view(request, *args, **kwargs)

    return login_required(wrapped)
