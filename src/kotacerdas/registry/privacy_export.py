"""Collect everything the city stores about one citizen, as JSON-ready values.

Sections: the person (registry member and linked user account), the
household with its KK and building, where it lived, wallets and their
transfers, the household's levy bills, reports the citizen filed, waste bank
memberships and deposits, and the audit events about the citizen, including
who saw their NIK or KK unmasked. Other household members are counted, not
named, because their data belongs to them.
"""

from collections.abc import Iterable
from typing import Any

from django.db.models import Q
from django.utils import timezone

from kotacerdas.accounts.models import AuditEvent, User
from kotacerdas.registry import services
from kotacerdas.registry.models import Member, Residence

EXPORT_FORMAT = "kotacerdas.subject-export.v1"


def subject_data(member: Member) -> dict[str, Any]:
    from kotacerdas.wallet.models import Account

    user = member.user
    accounts = list(
        Account.objects.filter(
            Q(member=member) | Q(holder=user) if user else Q(member=member)
        ).order_by("id")
    )
    return {
        "format": EXPORT_FORMAT,
        "exported_at": timezone.now().isoformat(),
        "person": _person(member),
        "user_account": _user(user) if user else None,
        "household": _household(member),
        "residences": _residences(member),
        "wallets": [_wallet(account) for account in accounts],
        "levy_bills": _levy_bills(member),
        "reports": _reports(user) if user else [],
        "waste_bank": _waste_bank(member, user),
        "audit_events": _audit_events(member, user),
    }


def _person(member: Member) -> dict[str, Any]:
    return {
        "member_id": member.pk,
        "full_name": member.full_name,
        "nik": services.member_nik(member, unmasked=True),
        "sex": member.sex,
        "birth_date": _date(member.birth_date),
        "phone": member.phone,
        "relation": member.relation,
        "status": member.status,
        "registered_at": _date(member.created_at),
        "changed_at": _date(member.updated_at),
    }


def _user(user: User) -> dict[str, Any]:
    return {
        "user_id": user.pk,
        "username": user.get_username(),
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "roles": sorted(user.groups.values_list("name", flat=True)),
        "date_joined": _date(user.date_joined),
        "last_login": _date(user.last_login),
        "is_active": user.is_active,
    }


def _household(member: Member) -> dict[str, Any]:
    household = member.household
    building = household.building
    return {
        "household_id": household.pk,
        "kk_number": services.household_kk(household, unmasked=True),
        "status": household.status,
        "other_members": household.members.exclude(pk=member.pk).count(),
        "building": {
            "building_id": building.pk,
            "plate_code": building.plate_code,
            "street_address": building.street_address,
            "kelurahan_code": building.kelurahan.code,
            "kelurahan": building.kelurahan.name,
            "rw": building.unit.rw,
            "rt": building.unit.rt,
        },
    }


def _residences(member: Member) -> list[dict[str, Any]]:
    rows = Residence.objects.filter(household_id=member.household_id).select_related(
        "building"
    )
    return [
        {
            "plate_code": residence.building.plate_code,
            "street_address": residence.building.street_address,
            "moved_in": _date(residence.moved_in),
            "moved_out": _date(residence.moved_out),
        }
        for residence in rows
    ]


def _wallet(account: Any) -> dict[str, Any]:
    from kotacerdas.wallet.models import Transfer

    transfers = (
        Transfer.objects.filter(Q(debit_account=account) | Q(credit_account=account))
        .select_related("debit_account", "credit_account")
        .order_by("created_at", "id")
    )
    return {
        "number": account.number,
        "kind": account.kind,
        "tier": account.tier,
        "status": account.status,
        "balance_rupiah": account.balance,
        "opened_at": _date(account.created_at),
        "transfers": [_transfer(transfer, account) for transfer in transfers],
    }


def _transfer(transfer: Any, account: Any) -> dict[str, Any]:
    outgoing = transfer.debit_account_id == account.pk
    other = transfer.credit_account if outgoing else transfer.debit_account
    return {
        "reference": transfer.reference,
        "direction": "out" if outgoing else "in",
        "amount_rupiah": transfer.amount,
        "kind": transfer.kind,
        "channel": transfer.channel,
        "status": transfer.status,
        "counterpart_wallet": other.number,
        "memo": transfer.memo,
        "journal_entry": transfer.entry_seq,
        "at": _date(transfer.created_at),
    }


def _levy_bills(member: Member) -> list[dict[str, Any]]:
    from kotacerdas.levy.models import Bill

    bills = Bill.objects.filter(household_id=member.household_id).order_by("month")
    return [
        {
            "number": bill.number,
            "month": _date(bill.month),
            "amount_rupiah": bill.amount,
            "paid_rupiah": bill.paid_amount,
            "status": bill.status,
            "due_date": _date(bill.due_date),
        }
        for bill in bills
    ]


def _reports(user: User) -> list[dict[str, Any]]:
    from kotacerdas.waste.reports.models import Report

    return [
        {
            "report_id": report.pk,
            "kind": report.kind,
            "status": report.status,
            "description": report.description,
            "has_photo": bool(report.photo),
            "lat": str(report.lat),
            "lng": str(report.lng),
            "filed_at": _date(report.created_at),
        }
        for report in Report.objects.filter(reporter=user).order_by("created_at")
    ]


def _waste_bank(member: Member, user: User | None) -> list[dict[str, Any]]:
    from kotacerdas.waste.bank.models import Membership

    condition = Q(member=member) | Q(user=user) if user else Q(member=member)
    memberships = Membership.objects.filter(condition).select_related("unit", "account")
    return [
        {
            "unit": membership.unit.name,
            "member_number": membership.number,
            "wallet": membership.account.number,
            "joined_on": _date(membership.joined_on),
            "deposits": [
                {
                    "weighed_at": _date(deposit.created_at),
                    "status": deposit.status,
                    "value_rupiah": deposit.total_value,
                    "credited_rupiah": deposit.posted_value,
                }
                for deposit in membership.deposits.order_by("created_at")
            ],
        }
        for membership in memberships
    ]


def _audit_events(member: Member, user: User | None) -> list[dict[str, Any]]:
    events: Iterable[AuditEvent] = []
    if user is not None:
        events = AuditEvent.objects.filter(Q(user=user) | Q(actor=user))
    rows = [_event(event) for event in events]
    # Unmasked views name the member or household in `detail`, which SQLite
    # cannot search inside, so they are filtered here.
    views = AuditEvent.objects.filter(kind=AuditEvent.Kind.IDENTITY_VIEWED)
    for event in views.select_related("user").iterator(chunk_size=2000):
        detail = event.detail or {}
        if member.pk in detail.get("member_ids", ()) or member.household_id in (
            detail.get("household_ids", ())
        ):
            rows.append(_event(event))
    return sorted(rows, key=lambda row: row["at"])


def _event(event: AuditEvent) -> dict[str, Any]:
    return {
        "at": _date(event.at),
        "kind": event.kind,
        "by": event.user.get_username() if event.user else event.username,
        "view": (event.detail or {}).get("view", ""),
    }


def _date(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
