"""The demo city: role logins (and, as apps grow, realistic Padang Panjang data).

Every demo user signs in with settings.KOTACERDAS_DEMO_PASSWORD. Creating the
demo city twice changes nothing: existing demo users are left as they are.
"""

import logging

from django.conf import settings

from kotacerdas.accounts.models import User
from kotacerdas.accounts.roles import get_role
from kotacerdas.accounts.services import create_user
from kotacerdas.city.models import Area

logger = logging.getLogger(__name__)

# The registry officer works in one kelurahan, as kelurahan staff do.
REGISTRY_KELURAHAN_CODE = "13.74.02.1002"  # Pasar Usang

# (username, role name) of each demo user, one per role.
DEMO_USERS: tuple[tuple[str, str], ...] = (
    ("admin", "admin"),
    ("registry", "registry_officer"),
    ("operator", "waste_operator"),
    ("collector", "collector"),
    ("teller", "waste_bank_teller"),
    ("revenue", "revenue_officer"),
    ("cashier", "cashier"),
    ("merchant", "merchant"),
    ("citizen", "citizen"),
    ("auditor", "auditor"),
    ("command", "command_center"),
)


def database_is_empty() -> bool:
    """Return whether no user exists yet, the sign of a fresh installation."""
    return not User.objects.exists()


def create_demo_city() -> list[User]:
    """Create the demo users that do not exist yet and return the new ones.

    Needs the city profile loaded first, because the registry officer is scoped
    to Kelurahan Pasar Usang; raises Area.DoesNotExist otherwise.
    """
    pasar_usang = Area.objects.get(code=REGISTRY_KELURAHAN_CODE)
    existing = set(User.objects.values_list("username", flat=True))
    created = []
    for username, role_name in DEMO_USERS:
        if username in existing:
            continue
        kelurahan = pasar_usang if role_name == "registry_officer" else None
        created.append(
            create_user(
                username,
                settings.KOTACERDAS_DEMO_PASSWORD,
                [role_name],
                kelurahan=kelurahan,
            )
        )
    logger.info("created %s demo users", len(created))
    return created


def demo_logins() -> list[tuple[str, str]]:
    """Return (username, role label) of each demo user that exists."""
    existing = set(
        User.objects.filter(
            username__in=[username for username, _role in DEMO_USERS]
        ).values_list("username", flat=True)
    )
    return [
        (username, str(get_role(role_name).label))
        for username, role_name in DEMO_USERS
        if username in existing
    ]
