"""A small demo city built once for this package, with a signed-in user per persona.

The security tests request every URL as every persona, so they need a row
behind every URL argument: a building, a bill, a report, a bank deposit, a
pilot and its partner cost. Building the small demo city with its pilot takes
tens of seconds, so it is built once for this package inside an outer transaction
that is rolled back after its last test, the way Django's TestCase.setUpTestData
works. Each test runs in a savepoint.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client

from kotacerdas.accounts.models import User
from kotacerdas.accounts.services import create_user
from kotacerdas.city.services import load_profile
from kotacerdas.demo import services as demo
from kotacerdas.journal.keys import create_signing_key, node_key
from kotacerdas.journal.models import Entry, JournalHead

CITIZEN_PIN = "246810"
REPORT_DESCRIPTION = "Bags of waste left by the river bank."

# Persona name -> demo username. The demo city has one user per role.
DEMO_PERSONAS = {role: username for username, role in demo.DEMO_USERS}
PERSONAS = [*DEMO_PERSONAS, "outsider", "anonymous"]


@dataclass
class DemoCity:
    """The users and the objects that fill every URL argument."""

    users: dict[str, User]
    objects: dict[str, Any]
    other: dict[str, Any] = field(default_factory=dict)
    # A session per persona, made once: signing in anew for each of the
    # thousands of requests would write a session row each time.
    session_keys: dict[str, str] = field(default_factory=dict)

    def client(self, persona: str, *, enforce_csrf: bool = False) -> Client:
        client = Client(enforce_csrf_checks=enforce_csrf)
        if persona != "anonymous":
            client.cookies[settings.SESSION_COOKIE_NAME] = self.session_keys[persona]
        return client


@pytest.fixture(scope="package")
def demo_city(django_db_setup, django_db_blocker) -> Iterator[DemoCity]:
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        # Lets the services' durable transactions nest, as in Django's TestCase.
        atomic._from_testcase = True  # type: ignore[attr-defined]
        atomic.__enter__()
        try:
            yield _build()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def _build() -> DemoCity:
    create_signing_key(Path(settings.KOTACERDAS_SIGNING_KEY_FILE))
    node_key.cache_clear()
    JournalHead.objects.get_or_create(id=1, defaults={"size": 0})
    load_profile("padang-panjang")
    demo.create_demo_city()
    demo.build_demo_registry("small")
    demo.build_demo_activity(pilot=True)

    users = {
        role: User.objects.get(username=username)
        for role, username in DEMO_PERSONAS.items()
    }
    users["outsider"] = create_user("outsider", "outsider-password-1", [])
    users["other_citizen"] = _other_citizen(users["citizen"])
    return DemoCity(
        users=users,
        objects=_objects(users),
        other=_objects_of_other_citizen(users),
        session_keys={persona: _session_key(user) for persona, user in users.items()},
    )


def _session_key(user: User) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _other_citizen(citizen: User) -> User:
    """Link a second citizen to a wallet holder of another household."""
    from kotacerdas.registry.models import Member
    from kotacerdas.registry.services import link_member_user
    from kotacerdas.wallet import pins

    mine = Member.objects.get(user=citizen).household_id
    member = (
        Member.objects.filter(wallet__isnull=False, user__isnull=True)
        .exclude(household_id=mine)
        .order_by("id")
        .first()
    )
    assert member is not None, "the small demo city has no second wallet holder"
    user = create_user("citizen-two", "citizen-two-password-1", ["citizen"])
    link_member_user(member, user)
    pins.set_pin(user, CITIZEN_PIN)
    return user


def _objects(users: dict[str, User]) -> dict[str, Any]:
    """Pick, for each URL argument name, an object the citizen persona owns."""
    from kotacerdas.command.figures import FIGURES_BY_KEY
    from kotacerdas.demo.pilot import PILOT_SLUG
    from kotacerdas.levy.models import Bill, BillingRun, Payment
    from kotacerdas.registry.models import Member, Plate
    from kotacerdas.sharing.models import PartnerCost
    from kotacerdas.wallet import services as wallet
    from kotacerdas.wallet.models import Transfer
    from kotacerdas.waste import models as waste
    from kotacerdas.waste.bank import models as bank

    citizen = users["citizen"]
    member = Member.objects.get(user=citizen)
    household = member.household
    account = wallet.wallet_for(citizen)
    assert account is not None
    transfer = Transfer.objects.filter(debit_account=account).order_by("id").first()
    transfer = transfer or Transfer.objects.filter(credit_account=account).first()
    assert transfer is not None, "the demo citizen's wallet has no transfer"
    bill = Bill.objects.filter(household=household).order_by("id").first()
    assert bill is not None, "the demo citizen's household has no bill"
    container = waste.Container.objects.order_by("id").first()
    deposit = bank.Deposit.objects.order_by("id").first()
    assert container is not None and deposit is not None
    cost = PartnerCost.objects.filter(pilot__slug=PILOT_SLUG).order_by("id").first()
    assert cost is not None, "the demo pilot has no partner cost"
    return {
        "seq": Entry.objects.order_by("seq").values_list("seq", flat=True)[1],
        "building_id": household.building_id,
        "household_id": household.pk,
        "member_id": member.pk,
        "batch_id": _import_batch(users["registry_officer"]),
        "reference": transfer.reference,
        "number": account.number,
        "run_id": BillingRun.objects.order_by("id").first().pk,  # type: ignore[union-attr]
        "bill_id": bill.pk,
        "payment_id": Payment.objects.order_by("id").first().pk,  # type: ignore[union-attr]
        "day": date.today().isoformat(),
        "statement_id": _statement(users["revenue_officer"]),
        "site_id": waste.Site.objects.order_by("id").first().pk,  # type: ignore[union-attr]
        "container_id": container.pk,
        "vehicle_id": waste.Vehicle.objects.order_by("id").first().pk,  # type: ignore[union-attr]
        "crew_id": waste.Crew.objects.order_by("id").first().pk,  # type: ignore[union-attr]
        "schedule_id": waste.Schedule.objects.order_by("id").first().pk,  # type: ignore[union-attr]
        "plan_id": waste.RoutePlan.objects.order_by("id").first().pk,  # type: ignore[union-attr]
        "pickup_id": waste.Pickup.objects.order_by("id").first().pk,  # type: ignore[union-attr]
        "urn": f"urn:ngsi-ld:WasteContainer:{container.plate_code}",
        "membership_id": deposit.membership_id,
        "deposit_id": deposit.pk,
        "unit_code": deposit.membership.unit.code,
        "sale_id": 1,
        "report_id": _report(citizen),
        "key": next(iter(FIGURES_BY_KEY)),
        "name": "pickups",
        "year": date.today().year,
        "month": date.today().month,
        "layer": "kelurahan",
        "metric": "pickups",
        "pending_id": "missing-reservation",
        "file_format": "csv",
        "slug": PILOT_SLUG,
        "cost_id": cost.pk,
        "plate_code": Plate.objects.filter(building=household.building)
        .values_list("code", flat=True)
        .last(),
    }


def _objects_of_other_citizen(users: dict[str, User]) -> dict[str, Any]:
    from kotacerdas.levy.models import Bill
    from kotacerdas.registry.models import Member
    from kotacerdas.wallet import services as wallet
    from kotacerdas.wallet.models import Transfer

    user = users["other_citizen"]
    member = Member.objects.get(user=user)
    account = wallet.wallet_for(user)
    assert account is not None
    transfer = Transfer.objects.filter(credit_account=account).order_by("id").first()
    bill = Bill.objects.filter(household=member.household).order_by("id").first()
    return {
        "building_id": member.household.building_id,
        "household_id": member.household_id,
        "member_id": member.pk,
        "number": account.number,
        "reference": transfer.reference if transfer else None,
        "bill_id": bill.pk if bill else None,
        "report_id": _report(user),
    }


def _import_batch(officer: User) -> Any:
    from kotacerdas.registry import import_batches

    upload = SimpleUploadedFile(
        "bangunan.csv", b"kode_kelurahan;rw;rt;alamat\n", content_type="text/csv"
    )
    return import_batches.receive_upload(upload, officer).pk


def _statement(officer: User) -> int:
    from kotacerdas.reconciliation.statements import import_statement

    header = "Tanggal;Waktu;Keterangan;Referensi;Kredit;Debet"
    row = f"{date.today():%d/%m/%Y};08:00;SETORAN;REF-SEC-1;10000;0"
    data = f"{header}\r\n{row}\r\n".encode()
    outcome = import_statement(data, "mutasi.csv", user=officer)
    return outcome.statement.pk


def _report(reporter: User) -> int:
    from kotacerdas.waste.reports.services import ReportInput, file_report

    report = file_report(
        ReportInput(
            kind="illegal_dumping",
            description=REPORT_DESCRIPTION,
            lat=-0.4633,
            lng=100.4003,
        ),
        reporter,
    )
    return report.pk
