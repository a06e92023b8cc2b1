"""Template context shared by every page."""

from django.http import HttpRequest

from kotacerdas.accounts.roles import ROLES


def roles(request: HttpRequest) -> dict[str, object]:
    """Add `user_roles`, the labels of the signed-in user's roles in table order."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"user_roles": []}
    held = set(user.groups.values_list("name", flat=True))
    return {"user_roles": [role.label for role in ROLES if role.name in held]}
