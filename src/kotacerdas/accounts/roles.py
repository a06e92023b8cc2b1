"""The roles of the platform, each a Django group with a fixed set of permissions.

`sync_roles` runs after every `migrate` (through post_migrate), so the groups
and their permissions always match this table. Permissions are named
"app_label.codename"; later apps add theirs to the roles that need them.
"""

from dataclasses import dataclass

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Role:
    """A role: its group name, label, admin access, permissions and duties."""

    name: str
    label: Promise
    is_staff: bool
    permissions: tuple[str, ...]
    duties: tuple[Promise, ...]


CITY_VIEW = ("city.view_city", "city.view_area", "city.view_neighbourhoodunit")
JOURNAL_VIEW = ("journal.view_entry", "journal.view_block", "journal.view_verifyrun")
REGISTRY_VIEW = (
    "registry.view_building",
    "registry.view_plate",
    "registry.view_household",
    "registry.view_member",
    "registry.view_residence",
)
REGISTRY_EDIT = (
    "registry.add_building",
    "registry.change_building",
    "registry.add_household",
    "registry.change_household",
    "registry.add_member",
    "registry.change_member",
    "registry.change_plate",
    "registry.print_plate",
    "registry.import_registry",
    "registry.view_identity_numbers",
)

WALLET_VIEW = ("wallet.view_account", "wallet.view_transfer")
SNAP_VIEW = ("snap.view_snappartner", "snap.view_snaprequest", "snap.view_snappayment")
WASTE_VIEW = (
    "waste.view_waste",
    "waste.view_site",
    "waste.view_container",
    "waste.view_vehicle",
    "waste.view_crew",
    "waste.view_schedule",
    "waste.view_routeplan",
    "waste.view_pickup",
    "waste.view_sensorreading",
    "waste.view_alert",
    "waste.view_material",
    "wastereports.view_report",
)

ROLES: tuple[Role, ...] = (
    Role(
        "admin",
        _("Administrator"),
        True,
        (
            *CITY_VIEW,
            *JOURNAL_VIEW,
            *REGISTRY_VIEW,
            *WALLET_VIEW,
            *SNAP_VIEW,
            *WASTE_VIEW,
            "wallet.view_all_accounts",
            "accounts.add_user",
            "accounts.change_user",
            "accounts.view_user",
            "accounts.view_auditevent",
            "registry.handle_data_request",
            "accounts.add_apitoken",
            "accounts.change_apitoken",
            "accounts.view_apitoken",
            "auth.view_group",
            "command.view_dashboard",
            "ops.view_monitoring",
            "sharing.view_statement",
            "sharing.record_cost",
            "pilot.view_trial_report",
            "pilot.manage_pilot",
            "pilot.view_pilot",
        ),
        (
            _("Manage users and their roles"),
            _("Manage signing keys and witnesses"),
            _("Maintain the city profile"),
            _("Run pilots and choose where each service runs"),
        ),
    ),
    Role(
        "registry_officer",
        _("Registry officer"),
        False,
        (
            *CITY_VIEW,
            *REGISTRY_VIEW,
            *REGISTRY_EDIT,
            "registry.scan_plate",
            "registry.handle_data_request",
        ),
        (
            _("Register buildings and households"),
            _("Print QR plates"),
            _("Import registry data"),
        ),
    ),
    Role(
        "waste_operator",
        _("Waste operator"),
        False,
        (
            "city.view_city",
            "city.view_area",
            "registry.view_building",
            "registry.view_plate",
            "registry.scan_plate",
            *WASTE_VIEW,
            "waste.manage_places",
            "waste.plan_routes",
            "waste.review_pickup",
            "wastereports.handle_report",
        ),
        (
            _("Manage collection points and the fleet"),
            _("Plan schedules and routes"),
            _("Read collection reports"),
        ),
    ),
    Role(
        "collector",
        _("Collector"),
        False,
        ("city.view_area", "registry.scan_plate", "waste.record_pickup"),
        (
            _("Scan building plates at pickup"),
            _("Log pickups, also offline"),
        ),
    ),
    Role(
        "waste_bank_teller",
        _("Waste bank teller"),
        False,
        ("city.view_area", "wallet.use_wallet", "wastebank.operate_waste_bank"),
        (
            _("Weigh deposits by category"),
            _("Credit members' wallets"),
        ),
    ),
    Role(
        "revenue_officer",
        _("Revenue officer"),
        False,
        (
            "city.view_city",
            "city.view_area",
            *REGISTRY_VIEW,
            *WALLET_VIEW,
            *SNAP_VIEW,
            "wallet.view_all_accounts",
            "wallet.manage_levies",
            "wallet.reconcile",
            "sharing.view_statement",
        ),
        (
            _("Set tariffs"),
            _("Issue monthly levy bills"),
            _("Follow arrears and reconcile payments"),
        ),
    ),
    Role(
        "cashier",
        _("Cashier or agent"),
        False,
        ("wallet.operate_counter",),
        (
            _("Take cash-in and pay out cash-out"),
            _("Take levy payments at the counter"),
        ),
    ),
    Role(
        "merchant",
        _("Merchant"),
        False,
        ("wallet.receive_payments",),
        (
            _("Show a payment QR code"),
            _("Receive payments"),
        ),
    ),
    Role(
        "citizen",
        _("Citizen"),
        False,
        ("registry.scan_plate", "wallet.use_wallet", "wastereports.file_report"),
        (
            _("Use your wallet and pay bills"),
            _("See pickups and waste bank savings"),
            _("File reports"),
        ),
    ),
    Role(
        "auditor",
        _("Auditor"),
        True,
        (
            *CITY_VIEW,
            *JOURNAL_VIEW,
            *REGISTRY_VIEW,
            *WALLET_VIEW,
            *SNAP_VIEW,
            *WASTE_VIEW,
            "wallet.view_all_accounts",
            "accounts.view_user",
            "accounts.view_auditevent",
            "command.view_dashboard",
            "sharing.view_statement",
            "pilot.view_trial_report",
        ),
        (
            _("Verify the ledger and receipts"),
            _("Read the audit trail"),
        ),
    ),
    Role(
        "command_center",
        _("Command center"),
        False,
        (
            *CITY_VIEW,
            "registry.view_building",
            "registry.view_plate",
            *WASTE_VIEW,
            "command.view_dashboard",
            "pilot.view_trial_report",
        ),
        (
            _("Watch the city-wide dashboard and map"),
            _("Follow alerts"),
        ),
    ),
)
ROLES_BY_NAME = {role.name: role for role in ROLES}


class UnknownRole(LookupError):
    """A role name is not in the ROLES table."""


class UnknownPermission(LookupError):
    """A role names a permission that no installed app defines."""


def get_role(name: str) -> Role:
    try:
        return ROLES_BY_NAME[name]
    except KeyError:
        raise UnknownRole(
            f"role {name!r} not found; known roles: {', '.join(ROLES_BY_NAME)}"
        ) from None


def sync_roles() -> None:
    """Create each role's group and set its permissions to exactly the table's.

    Raises UnknownPermission when a role names a permission that does not exist,
    which is a typo or an app missing from INSTALLED_APPS.
    """
    with transaction.atomic():
        for role in ROLES:
            group, _created = Group.objects.get_or_create(name=role.name)
            group.permissions.set(_permissions(role))


def _permissions(role: Role) -> list[Permission]:
    found = []
    for dotted in role.permissions:
        app_label, codename = dotted.split(".", 1)
        permission = Permission.objects.filter(
            content_type__app_label=app_label, codename=codename
        ).first()
        if permission is None:
            raise UnknownPermission(
                f"role {role.name!r} names permission {dotted!r}, which does not exist"
            )
        found.append(permission)
    return found
