"""The levy's write paths: tariffs, payments of bills and cancelling bills.

Billing runs live in `levy.billing`. Each function here checks its input,
raises `LevyError` naming the field at fault with a translated message, or
writes its rows and appends one journal event per fact in one transaction.
Money moves only through `wallet.services.submit`, inside the same
transaction as the bill update and the payment's journal event, so a payment
is either recorded on the bill, the wallet and the journal, or nowhere.
"""

import logging
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from kotacerdas.city.models import City
from kotacerdas.journal import services as journal
from kotacerdas.levy.events import BillCancelled, PaymentRecorded, TariffSet
from kotacerdas.levy.models import Bill, Payment, Tariff
from kotacerdas.levy.months import InvalidMonth, current_month, month_text, parse_month
from kotacerdas.registry.levy import LevyClass, levy_classes
from kotacerdas.wallet import services as wallet
from kotacerdas.wallet.models import Channel, TransferKind
from kotacerdas.wallet.services import TransferRejected, TransferRequest

logger = logging.getLogger(__name__)

REVENUE_CODE = "waste_levy"
GROUPED = re.compile(r"^([0-9]+|[0-9]{1,3}(\.[0-9]{3})+|[0-9]{1,3}(,[0-9]{3})+)$")
BILL_PREFIX = "RTB"
# The highest monthly tariff accepted: ten times the largest business class
# of the pilot city, to catch a typing slip such as an extra zero or two.
MAX_MONTHLY_AMOUNT = 10_000_000
# The month the profile's amounts apply from, before any bill can be issued.
# The profile's `[tariffs] levy_valid_from` ("YYYY-MM") sets another month.
PROFILE_TARIFFS_FROM = date(2000, 1, 1)


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str
    code: str = "invalid"


class LevyError(ValueError):
    """A levy request was not carried out and nothing was written.

    `errors` names each field at fault with a translated message; `code`,
    `field` and `message` are those of the first.
    """

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors

    @property
    def code(self) -> str:
        return self.errors[0].code

    @property
    def field(self) -> str:
        return self.errors[0].field

    @property
    def message(self) -> str:
        return self.errors[0].message


def field_error(field: str, message: str, code: str = "invalid") -> LevyError:
    return LevyError([FieldError(field, message, code)])


def actor_label(actor: Any) -> str | None:
    """Return the journal's actor text for a user, a label or None."""
    if actor is None or isinstance(actor, str):
        return actor or None
    return f"user:{actor.pk}" if getattr(actor, "pk", None) else None


def bill_number(month: date, serial: int) -> str:
    return f"{BILL_PREFIX}-{month:%Y%m}-{serial:06d}"


def bill_status(amount: int, paid_amount: int) -> str:
    if paid_amount == 0:
        return Bill.Status.OPEN
    if paid_amount < amount:
        return Bill.Status.PARTLY_PAID
    return Bill.Status.PAID


def whole_rupiah(value: Any, field: str, *, minimum: int, maximum: int) -> int:
    """Return a whole number of rupiah typed as text or sent as a number."""
    if isinstance(value, bool):
        value = None
    if isinstance(value, str):
        typed = value.strip().removeprefix("Rp").strip()
        # Digits, grouped by thousands with dots (Indonesian) or commas, or not
        # at all: "7.500", "7,500" and "7500" are all seven thousand five hundred.
        value = int(re.sub(r"[.,]", "", typed)) if GROUPED.match(typed) else None
    if not isinstance(value, int):
        raise field_error(
            field, _("Enter the amount as a whole number of rupiah, such as 7500.")
        )
    if value < minimum:
        raise field_error(
            field,
            _("Enter an amount of at least Rp%(low)s.")
            % {"low": number_format(minimum, force_grouping=True)},
        )
    if value > maximum:
        raise field_error(
            field,
            _("Enter an amount of at most Rp%(high)s.")
            % {"high": number_format(maximum, force_grouping=True)},
        )
    return value


# Tariffs -------------------------------------------------------------------------


def profile_classes(city: City | None = None) -> dict[str, LevyClass]:
    return {levy.code: levy for levy in levy_classes(city)}


def ensure_tariffs(city: City | None = None) -> list[Tariff]:
    """Seed a tariff for each profile class that has an amount and no tariff yet.

    Runs on first use of the levy pages, the API and every billing run, so a
    newly loaded city can be billed at once. A class the revenue officer has
    already given a tariff is left alone, even if the profile's amount
    changed later. Locks the city row, so two first uses seed once.
    """
    city = city or City.objects.order_by("id").first()
    if city is None:
        return []
    wanted = [levy for levy in levy_classes(city) if levy.monthly is not None]
    known = set(Tariff.objects.values_list("levy_class", flat=True).distinct())
    if all(levy.code in known for levy in wanted):
        return []
    valid_from = _profile_valid_from(city)
    created = []
    with transaction.atomic():
        City.objects.select_for_update().filter(pk=city.pk).first()
        known = set(Tariff.objects.values_list("levy_class", flat=True).distinct())
        for levy in wanted:
            if levy.code in known or levy.monthly is None:
                continue
            created.append(
                _store_tariff(
                    levy, levy.monthly, valid_from, Tariff.Source.PROFILE, None
                )
            )
    if created:
        logger.info("seeded %d levy tariffs from the city profile", len(created))
    return created


def _profile_valid_from(city: City) -> date:
    configured = city.settings.get("tariffs", {}).get("levy_valid_from")
    if not configured:
        return PROFILE_TARIFFS_FROM
    return parse_month(str(configured))


def set_tariff(
    levy_class: Any, monthly_amount: Any, valid_from: Any, *, actor: Any = None
) -> Tariff:
    """Record a new monthly amount for a class from a month on, and journal it.

    The month must be the current one or later: bills already issued keep
    their amount, so a tariff cannot change what a past month was billed.
    Raises LevyError listing every invalid field.
    """
    errors: list[FieldError] = []
    levy = profile_classes().get(str(levy_class or "").strip())
    if levy is None:
        errors.append(
            FieldError(
                "levy_class",
                _("Choose one of the city's levy classes: %(codes)s.")
                % {"codes": ", ".join(profile_classes())},
            )
        )
    amount = None
    try:
        amount = whole_rupiah(
            monthly_amount, "monthly_amount", minimum=0, maximum=MAX_MONTHLY_AMOUNT
        )
    except LevyError as error:
        errors.extend(error.errors)
    month = None
    try:
        month = parse_month(valid_from)
        if month < current_month():
            errors.append(
                FieldError(
                    "valid_from",
                    _(
                        "A new tariff applies from this month (%(month)s) or a later one."
                    )
                    % {"month": month_text(current_month())},
                )
            )
    except InvalidMonth as error:
        errors.append(FieldError("valid_from", error.message))
    if errors:
        raise LevyError(errors)
    assert levy is not None
    assert amount is not None
    assert month is not None

    user = actor if getattr(actor, "pk", None) else None
    with transaction.atomic():
        tariff = _store_tariff(levy, amount, month, Tariff.Source.OFFICER, user)
    logger.info("levy tariff %s set", tariff.pk, extra={"tariff_id": tariff.pk})
    return tariff


def _store_tariff(
    levy: LevyClass, amount: int, valid_from: date, source: str, user: Any
) -> Tariff:
    tariff = Tariff.objects.create(
        levy_class=levy.code,
        label=levy.label,
        monthly_amount=amount,
        valid_from=valid_from,
        source=source,
        created_by=user,
    )
    entry = journal.append(
        "levy.tariff.set",
        TariffSet(
            tariff_id=tariff.pk,
            levy_class=tariff.levy_class,
            monthly_amount=amount,
            valid_from=month_text(valid_from),
            source=source,
        ),
        actor=actor_label(user) or "system",
    )
    Tariff.objects.filter(pk=tariff.pk).update(entry_seq=entry.seq)
    tariff.entry_seq = entry.seq
    return tariff


def tariffs_for(month: date) -> dict[str, Tariff]:
    """Return the tariff in force in `month` for each class that has one."""
    found: dict[str, Tariff] = {}
    rows = Tariff.objects.filter(valid_from__lte=month).order_by(
        "levy_class", "-valid_from", "-id"
    )
    for tariff in rows:
        found.setdefault(tariff.levy_class, tariff)
    return found


# Payments ------------------------------------------------------------------------

# Wallet request fields and the names callers of `pay_bill` know them by.
TRANSFER_FIELDS = {"id": "transfer_id", "debit": "payer_account", "memo": "bill"}


def revenue_account() -> Any:
    return wallet.revenue_account(REVENUE_CODE)


def pay_bill(
    bill: Bill | int,
    *,
    payer_account_number: str,
    amount: Any,
    transfer_id: str,
    channel: str = Channel.APP,
    actor: Any = None,
) -> Payment:
    """Pay all or part of a bill from a wallet account, and journal it.

    Locks the bill, then (through the wallet) both accounts, then the journal
    head. Retrying with the same `transfer_id`, bill and amount returns the
    payment already recorded; the same id for anything else is rejected. An
    amount above what is still owed is rejected, naming the amount field.
    """
    bill_id = bill.pk if isinstance(bill, Bill) else bill
    amount = whole_rupiah(amount, "amount", minimum=1, maximum=wallet.MAX_AMOUNT)
    credit = revenue_account().number
    label = actor_label(actor)
    with transaction.atomic():
        locked = Bill.objects.select_for_update().get(pk=bill_id)
        known = known_payment(transfer_id, locked, amount)
        if known is not None:
            return known
        check_payable(locked, amount)
        request = TransferRequest(
            id=transfer_id,
            debit=payer_account_number,
            credit=credit,
            amount=amount,
            kind=TransferKind.LEVY,
            channel=channel,
            memo=locked.number,
        )
        try:
            transfer = wallet.submit(request, actor=label)
        except TransferRejected as rejected:
            field = TRANSFER_FIELDS.get(rejected.field, rejected.field)
            raise field_error(field, rejected.message, rejected.code) from None

        payment = _record_payment(locked, transfer, amount, channel, label)
    logger.info(
        "levy payment %s recorded on bill %s",
        payment.pk,
        locked.pk,
        extra={"bill_id": locked.pk, "payment_id": payment.pk},
    )
    return payment


def known_payment(transfer_id: str, bill: Bill, amount: int) -> Payment | None:
    """Return the payment already made with `transfer_id`, or None if there is none.

    Raises LevyError when the id was used for another bill or amount.
    """
    known = (
        Payment.objects.select_related("transfer")
        .filter(transfer__client_id=transfer_id)
        .first()
    )
    return reuse_payment(known, transfer_id, bill, amount)


def reuse_payment(
    known: Payment | None, transfer_id: str, bill: Bill, amount: int
) -> Payment | None:
    if known is None:
        return None
    if known.bill_id == bill.pk and known.amount == amount:
        return known
    raise field_error(
        "transfer_id",
        _(
            "The transfer id %(id)s was already used for another payment. "
            "Use a new id for a new payment."
        )
        % {"id": transfer_id},
        "id_conflict",
    )


def check_payable(bill: Bill, amount: int, outstanding: int | None = None) -> None:
    """Raise LevyError unless `amount` may be paid on `bill` now.

    `outstanding` overrides what the bill still owes, for a batch that pays
    the same bill more than once.
    """
    owed = bill.outstanding if outstanding is None else outstanding
    if bill.status == Bill.Status.CANCELLED:
        raise field_error(
            "bill",
            _("Bill %(number)s was cancelled and cannot be paid.")
            % {"number": bill.number},
            "bill_cancelled",
        )
    if bill.status == Bill.Status.PAID or owed == 0:
        raise field_error(
            "bill",
            _("Bill %(number)s is already paid in full.") % {"number": bill.number},
            "bill_paid",
        )
    if amount > owed:
        raise field_error(
            "amount",
            _(
                "The amount Rp%(amount)s is more than the Rp%(outstanding)s still "
                "owed on bill %(number)s. Enter at most Rp%(outstanding)s."
            )
            % {
                "amount": number_format(amount, force_grouping=True),
                "outstanding": number_format(owed, force_grouping=True),
                "number": bill.number,
            },
            "exceeds_outstanding",
        )


def _record_payment(
    bill: Bill, transfer: Any, amount: int, channel: str, label: str | None
) -> Payment:
    bill.paid_amount += amount
    bill.status = bill_status(bill.amount, bill.paid_amount)
    bill.save(update_fields=["paid_amount", "status"])
    entry = journal.append(
        "levy.payment.recorded",
        payment_event(bill, transfer, amount, channel),
        actor=label,
    )
    return Payment.objects.create(
        bill=bill,
        transfer=transfer,
        payer_account_id=transfer.debit_account_id,
        amount=amount,
        channel=channel,
        actor=label or "",
        entry_seq=entry.seq,
    )


def payment_event(
    bill: Bill, transfer: Any, amount: int, channel: str
) -> PaymentRecorded:
    """Return the event of a payment, given the bill as it is after the payment."""
    return PaymentRecorded(
        bill_id=bill.pk,
        number=bill.number,
        amount=amount,
        transfer_client_id=transfer.client_id,
        transfer_reference=transfer.reference,
        channel=channel,
        paid_amount=bill.paid_amount,
        status=bill.status,
    )


def pay_at_counter(
    bill: Bill | int, *, amount: Any, transfer_id: str, actor: Any = None
) -> Payment:
    """Take cash for a bill at a counter: the cash is owed by the settlement account.

    The cashier hands the cash to the partner bank, so the settlement account,
    which mirrors the bank's float, pays the city's revenue account.
    """
    return pay_bill(
        bill,
        payer_account_number=wallet.settlement_account().number,
        amount=amount,
        transfer_id=transfer_id,
        channel=Channel.COUNTER,
        actor=actor,
    )


def pay_from_wallet(
    bill: Bill | int, user: Any, *, amount: Any, transfer_id: str
) -> Payment:
    """Pay a bill from the user's own wallet; the caller checked PIN and ownership."""
    account = wallet.wallet_for(user)
    assert account is not None
    return pay_bill(
        bill,
        payer_account_number=account.number,
        amount=amount,
        transfer_id=transfer_id,
        channel=Channel.APP,
        actor=user,
    )


# Cancelling ---------------------------------------------------------------------


def cancel_bill(bill: Bill | int, reason: Any, *, actor: Any = None) -> Bill:
    """Cancel a bill nothing was paid on, so its payer can be billed again.

    Cancelling twice returns the cancelled bill. A bill with payments cannot
    be cancelled, because the money would have to be refunded first.
    """
    bill_id = bill.pk if isinstance(bill, Bill) else bill
    if reason not in Bill.CancelReason.values:
        raise field_error(
            "reason",
            _("Choose a reason: %(reasons)s.")
            % {"reasons": ", ".join(str(label) for label in Bill.CancelReason.labels)},
        )
    with transaction.atomic():
        locked = Bill.objects.select_for_update().get(pk=bill_id)
        if locked.status == Bill.Status.CANCELLED:
            return locked
        if locked.paid_amount:
            raise field_error(
                "bill",
                _(
                    "Bill %(number)s has payments of Rp%(paid)s and cannot be "
                    "cancelled; refund the payments first."
                )
                % {
                    "number": locked.number,
                    "paid": number_format(locked.paid_amount, force_grouping=True),
                },
                "bill_has_payments",
            )
        locked.status = Bill.Status.CANCELLED
        locked.cancel_reason = reason
        locked.cancelled_at = timezone.now()
        locked.save(update_fields=["status", "cancel_reason", "cancelled_at"])
        journal.append(
            "levy.bill.cancelled",
            BillCancelled(bill_id=locked.pk, number=locked.number, reason=reason),
            actor=actor_label(actor),
        )
    logger.info("levy bill %s cancelled", locked.pk, extra={"bill_id": locked.pk})
    return locked
