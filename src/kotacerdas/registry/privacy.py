"""Data-subject requests under UU 27/2022: export and erase a citizen's data.

The data subject is a registry member and, when one is linked, the user account
that acts as that member. `export_subject` collects everything the city stores
about them. `erase_subject` removes their name, NIK, phone, birth date, report
photos and account details, and the household's KK once no member with data is
left, while financial records (wallets, transfers, levy bills, waste bank
deposits) and the journal stay, because the law requires keeping them and the
journal contains no personal data. The erasure is journalled as
`registry.member.erased` (and `registry.household.erased`) with a fresh
`details_hash`, so `ledger verify` still matches the tables afterwards and
every receipt and inclusion proof still verifies.
"""

import logging
import secrets
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from kotacerdas.accounts import audit
from kotacerdas.accounts.models import ApiToken, AuditEvent, User
from kotacerdas.journal import services as journal
from kotacerdas.registry import pii, services
from kotacerdas.registry.events import HouseholdErased, MemberErased
from kotacerdas.registry.identity_access import EXPORT_SCREEN, record_identity_view
from kotacerdas.registry.models import ERASED_NAME as ERASED_NAME
from kotacerdas.registry.models import ERASED_USERNAME_PREFIX, Household, Member
from kotacerdas.registry.privacy_export import subject_data

logger = logging.getLogger(__name__)

ERASED_INDEX_PREFIX = "erased:"


class ErasureRejected(Exception):
    """An erasure cannot go ahead. `message` gives the reason and what to do first."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ErasureResult:
    member_id: int
    household_id: int
    household_erased: bool
    user_id: int | None
    photos_deleted: int


def is_erased(member: Member) -> bool:
    return member.nik_index.startswith(ERASED_INDEX_PREFIX)


def export_subject(
    member: Member,
    *,
    actor: Any,
    request: HttpRequest | None = None,
    screen: str = EXPORT_SCREEN,
) -> dict[str, Any]:
    """Return everything held about `member`, and record who exported it.

    The export shows the NIK and KK unmasked, so it is also recorded as an
    unmasked view of them, under `screen`: the data-subject page or the
    downloaded file.
    """
    data = subject_data(member)
    audit.record(
        AuditEvent.Kind.DATA_EXPORTED,
        user=actor,
        request=request,
        detail={"member_id": member.pk, "household_id": member.household_id},
    )
    record_identity_view(
        actor,
        screen,
        member_ids=[member.pk],
        household_ids=[member.household_id],
        request=request,
    )
    logger.info(
        "exported personal data of member %s",
        member.pk,
        extra={"member_id": member.pk, "actor": services.actor_label(actor)},
    )
    return data


def erasure_blockers(member: Member) -> list[str]:
    """Return why `member` cannot be erased now, as messages for the officer."""
    from kotacerdas.wallet.models import Account

    if is_erased(member):
        return [_("This person's data has already been erased.")]
    problems = []
    accounts = Account.objects.filter(_accounts_of(member))
    for account in accounts:
        if account.balance != 0 or account.debits_pending or account.credits_pending:
            problems.append(
                _(
                    "Wallet %(number)s still contains money or a pending payment. "
                    "Pay out the balance (cash-out) and settle pending payments, "
                    "then erase."
                )
                % {"number": account.number}
            )
    return problems


def erase_subject(
    member: Member, *, actor: Any, request: HttpRequest | None = None
) -> ErasureResult:
    """Erase a member's personal data and that of the linked user account.

    Locks the household and then the member. Raises ErasureRejected (with
    the reason) when a wallet still contains money or the data is already erased.
    Records `registry.member.removed` if the member was active, then
    `registry.member.erased`, and `registry.household.erased` when no member
    of the household keeps personal data; and a `data_erased` audit event.
    """
    photo_files: list[Any] = []
    with transaction.atomic():
        # Household before member, the order retire_household takes them in.
        Household.objects.select_for_update().get(pk=member.household_id)
        locked = Member.objects.select_for_update().get(pk=member.pk)
        problems = erasure_blockers(locked)
        if problems:
            raise ErasureRejected(" ".join(problems))
        if locked.status == Member.Status.ACTIVE:
            locked = services.remove_member(locked, actor=actor)
        user = locked.user
        _erase_member_row(locked, actor)
        household_erased = _erase_household_if_empty(locked.household_id, actor)
        if user is not None:
            photo_files = _erase_user(user)
        audit.record(
            AuditEvent.Kind.DATA_ERASED,
            user=actor,
            request=request,
            detail={
                "member_id": locked.pk,
                "household_id": locked.household_id,
                "household_erased": household_erased,
                "user_id": user.pk if user else None,
                "photos_deleted": len(photo_files),
            },
        )
        # Files go only once the rows that name them are gone for good.
        transaction.on_commit(lambda: _delete_files(photo_files))

    logger.info(
        "erased personal data of member %s",
        locked.pk,
        extra={"member_id": locked.pk, "actor": services.actor_label(actor)},
    )
    return ErasureResult(
        member_id=locked.pk,
        household_id=locked.household_id,
        household_erased=household_erased,
        user_id=user.pk if user else None,
        photos_deleted=len(photo_files),
    )


def _accounts_of(member: Member) -> Q:
    condition = Q(member=member)
    if member.user_id is not None:
        condition |= Q(holder_id=member.user_id)
    return condition


def _erase_member_row(member: Member, actor: Any) -> None:
    # A new salt makes the old details_hash in the journal link to nothing.
    member.full_name = ERASED_NAME
    member.nik_sealed = pii.seal("", "member.nik")
    member.nik_index = f"{ERASED_INDEX_PREFIX}{member.pk}"
    member.phone = ""
    member.birth_date = None
    member.user = None
    member.details_salt = secrets.token_bytes(16)
    member.save()
    journal.append(
        "registry.member.erased",
        MemberErased(**services.member_state(member)),
        actor=services.actor_label(actor),
    )


def _erase_household_if_empty(household_id: int, actor: Any) -> bool:
    household = Household.objects.select_for_update().get(pk=household_id)
    if household.kk_index.startswith(ERASED_INDEX_PREFIX):
        return False
    others = household.members.exclude(nik_index__startswith=ERASED_INDEX_PREFIX)
    if others.exists():
        return False
    household.kk_sealed = pii.seal("", "household.kk")
    household.kk_index = f"{ERASED_INDEX_PREFIX}{household.pk}"
    household.details_salt = secrets.token_bytes(16)
    household.save()
    journal.append(
        "registry.household.erased",
        HouseholdErased(**services.household_state(household)),
        actor=services.actor_label(actor),
    )
    return True


def _erase_user(user: User) -> list[Any]:
    """Anonymise the account, close its access and detach its report photos."""
    from kotacerdas.wallet.models import PaymentPin
    from kotacerdas.waste.reports.models import Report

    user.username = f"{ERASED_USERNAME_PREFIX}{user.pk}"
    user.first_name = ""
    user.last_name = ""
    user.email = ""
    user.is_active = False
    user.set_unusable_password()
    user.save()
    PaymentPin.objects.filter(user=user).delete()
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    # The audit trail keeps its events but no longer names the person.
    AuditEvent.objects.filter(user=user).update(username=user.username)

    files = []
    for report in Report.objects.filter(reporter=user).exclude(photo=""):
        if report.photo:
            files.append(report.photo)
            Report.objects.filter(pk=report.pk).update(photo="")
    return files


def _delete_files(files: list[Any]) -> None:
    for file in files:
        try:
            file.storage.delete(file.name)
        except OSError:
            logger.exception("failed to delete erased report photo %s", file.name)
