"""The write path of the waste banks: units, members, price lists, deposits.

Every call runs in one transaction and journals what it changed. Lock order,
when a call takes several locks: the Unit row, then the Deposit row, then the
wallet accounts (which `wallet.services` locks itself, in id order).

A deposit credits the member through the wallet's two-phase transfer: a
pending WASTE_BANK_CREDIT at weigh-in from the unit's payout account, posted
when the teller validates the sorting (in part, when some items are rejected)
or voided with a reason. A client-chosen id makes recording idempotent.
"""

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kotacerdas.journal import services as journal
from kotacerdas.wallet import services as wallet
from kotacerdas.wallet.display import rupiah
from kotacerdas.wallet.models import (
    Account,
    AccountKind,
    Channel,
    Transfer,
    TransferKind,
)
from kotacerdas.waste.bank import events
from kotacerdas.waste.bank.models import (
    Deposit,
    DepositItem,
    Membership,
    PriceItem,
    PriceList,
    Unit,
)
from kotacerdas.waste.models import Material, Site

logger = logging.getLogger(__name__)

OPERATE = "wastebank.operate_waste_bank"
CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,40}$")
# The wallet voids a deposit's hold after this long; sorting is normally
# checked the same day, and a week covers a unit that opens once a week.
HOLD_S = 7 * 24 * 3600
MAX_WEIGHT_G = 1_000_000
MAX_PRICE_PER_KG = 1_000_000
MAX_ITEMS = 30
# Letters of a unit code at the start of its member numbers (ANGGREK-0001).
MEMBER_PREFIX_MAX = 8
KG_PATTERN = re.compile(r"^\d{1,4}([.,]\d{1,3})?$")


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str
    code: str = "invalid"


class BankError(ValueError):
    """A waste bank request was not carried out and nothing was written.

    `errors` names each field at fault with a message in the active language.
    """

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors

    @property
    def code(self) -> str:
        return self.errors[0].code

    @property
    def message(self) -> str:
        return self.errors[0].message


def fail(field: str, message: str, code: str = "invalid") -> BankError:
    return BankError([FieldError(field, message, code)])


def actor_of(user: Any) -> str | None:
    return f"user:{user.pk}" if user is not None and user.pk else None


# ---------------------------------------------------------------- amounts


def item_value(weight_g: int, price_per_kg: int) -> int:
    """Return weight_g * price_per_kg / 1000 rounded to whole rupiah, halves up."""
    return (weight_g * price_per_kg + 500) // 1000


def parse_weight_g(text: str, unit: str = "kg") -> int:
    """Return whole grams from a typed weight in kg (up to 3 decimals) or grams.

    Both "3.2" and "3,2" mean 3.2 kg, because phones in Indonesian type a
    decimal comma.
    """
    cleaned = (text or "").strip().replace(" ", "")
    if unit == "g":
        if not cleaned.isdecimal():
            raise fail("weight", _("Enter the weight in whole grams, such as 3200."))
        # int() rejects more than 4,300 digits; 10 digits are already over the maximum.
        grams = int(cleaned.lstrip("0")[:10] or "0")
    else:
        if not KG_PATTERN.match(cleaned):
            raise fail(
                "weight",
                _("Enter the weight in kg with at most 3 decimals, such as 3,2."),
            )
        grams = int(Decimal(cleaned.replace(",", ".")) * 1000)
    if not 0 < grams <= MAX_WEIGHT_G:
        raise fail(
            "weight",
            _("The weight must be above 0 and at most 1000 kg; check the scale."),
        )
    return grams


def require_teller(user: Any, unit: Unit) -> None:
    """Raise PermissionDenied unless `user` is a teller of this unit."""
    if not user.has_perm(OPERATE) or not unit.tellers.filter(pk=user.pk).exists():
        raise PermissionDenied


# ---------------------------------------------------------------- units


def payout_account(code: str, name: str) -> Account:
    """Return a unit's WASTE_BANK account, opening it on first use."""
    return wallet.system_account(f"waste_bank:{code}", AccountKind.WASTE_BANK, name)


def open_unit(
    *,
    code: str,
    name: str,
    site: Site,
    kind: str,
    opening_hours: str = "",
    actor: str | None = None,
) -> Unit:
    """Open a unit at a waste bank site, with its own payout account."""
    if site.kind != Site.Kind.WASTE_BANK:
        raise fail("site", _("Choose a site of kind waste bank (bank sampah)."))
    if kind not in Unit.Kind.values:
        raise fail("kind", _("The kind must be BSU or BSI."))
    if Unit.objects.filter(code=code).exists():
        raise fail("code", _("A unit with the code %(code)s exists.") % {"code": code})
    with transaction.atomic():
        unit = Unit.objects.create(
            code=code,
            name=name,
            site=site,
            kind=kind,
            opening_hours=opening_hours,
            account=payout_account(code, name),
        )
        journal.append(
            "wastebank.unit.opened",
            events.UnitOpened(
                unit_id=unit.pk,
                code=code,
                kind=kind,
                site_id=site.pk,
                account_id=unit.account_id,
            ),
            actor=actor,
        )
    logger.info("waste bank unit opened id=%s code=%s", unit.pk, code)
    return unit


def fund_unit(unit: Unit, amount: int, client_id: str, actor: str | None) -> Transfer:
    """Top up a unit's payout account from the partner bank's settlement account.

    The amount is cash the unit paid in at the partner bank, for instance from
    its sales to off-takers. Deposits are credited out of this balance.
    """
    return wallet.submit(
        wallet.TransferRequest(
            id=client_id,
            debit=wallet.settlement_account().number,
            credit=unit.account.number,
            amount=amount,
            kind=TransferKind.TOPUP,
            channel=Channel.COUNTER,
        ),
        actor=actor,
    )


def member_number(unit_code: str, serial: int) -> str:
    """Return a member number such as ANGGREK-0001 from a unit code.

    The prefix is the code's letters and digits in capitals, its words joined
    by single dashes and cut to MEMBER_PREFIX_MAX characters without a dash at
    the end. A code with no letter or digit gives the bare serial.
    """
    words = re.findall(r"[A-Z0-9]+", unit_code.upper())
    prefix = "-".join(words)[:MEMBER_PREFIX_MAX].rstrip("-")
    return f"{prefix}-{serial:04d}" if prefix else f"{serial:04d}"


def join(
    unit: Unit,
    account: Account,
    *,
    user: Any = None,
    joined_on: date | None = None,
    actor: str | None = None,
) -> Membership:
    """Make a citizen wallet a member of a unit with the next member number."""
    if account.kind != AccountKind.CITIZEN:
        raise fail("wallet", _("Only a citizen wallet can be a member's wallet."))
    with transaction.atomic():
        Unit.objects.select_for_update().get(pk=unit.pk)
        if Membership.objects.filter(unit=unit, account=account).exists():
            raise fail("wallet", _("This wallet is already a member of this unit."))
        count = Membership.objects.filter(unit=unit).count()
        membership = Membership.objects.create(
            unit=unit,
            number=member_number(unit.code, count + 1),
            user=user if user is not None else account.holder,
            member=account.member,
            account=account,
            joined_on=joined_on or timezone.localdate(),
        )
        journal.append(
            "wastebank.member.joined",
            events.MemberJoined(
                membership_id=membership.pk,
                unit_id=unit.pk,
                number=membership.number,
                account_id=account.pk,
                joined_on=membership.joined_on.isoformat(),
            ),
            actor=actor,
        )
    return membership


def find_membership(unit: Unit, text: str) -> Membership | None:
    """Find an active member by member number or wallet number, as typed."""
    cleaned = (text or "").strip().upper().replace(" ", "")
    if not cleaned:
        return None
    found = (
        Membership.objects.filter(unit=unit, active=True, number=cleaned)
        .select_related("account")
        .first()
    )
    if found is not None:
        return found
    digits = re.sub(r"[\s.-]", "", cleaned)
    return (
        Membership.objects.filter(unit=unit, active=True, account__number=digits)
        .select_related("account")
        .first()
    )


# ---------------------------------------------------------------- price lists


def set_prices(
    unit: Unit,
    valid_from: date,
    prices: Mapping[str, int],
    *,
    user: Any = None,
    actor: str | None = None,
) -> PriceList:
    """Store a new dated price list of a unit: rupiah per kg by material code."""
    materials = {m.code: m for m in Material.objects.filter(code__in=list(prices))}
    errors = []
    for code, price in prices.items():
        if code not in materials:
            errors.append(FieldError(code, _("No material has the code %s.") % code))
        elif isinstance(price, bool) or not isinstance(price, int):
            errors.append(FieldError(code, _("Enter the price in whole rupiah.")))
        elif not 0 < price <= MAX_PRICE_PER_KG:
            errors.append(
                FieldError(code, _("The price must be Rp1 to Rp1.000.000 per kg."))
            )
    if not prices:
        errors.append(
            FieldError("prices", _("Enter a price for at least one material."))
        )
    if errors:
        raise BankError(errors)
    if PriceList.objects.filter(unit=unit, valid_from=valid_from).exists():
        raise fail(
            "valid_from",
            _("This unit already has a price list for %(day)s; choose another day.")
            % {"day": valid_from.isoformat()},
        )
    with transaction.atomic():
        price_list = PriceList.objects.create(
            unit=unit, valid_from=valid_from, created_by=user
        )
        PriceItem.objects.bulk_create(
            PriceItem(price_list=price_list, material=materials[code], price_per_kg=p)
            for code, p in sorted(prices.items())
        )
        entry = journal.append(
            "wastebank.prices.set",
            events.PricesSet(
                price_list_id=price_list.pk,
                unit_id=unit.pk,
                valid_from=valid_from.isoformat(),
                prices=dict(sorted(prices.items())),
            ),
            actor=actor or actor_of(user),
        )
        price_list.entry_seq = entry.seq
        price_list.save(update_fields=["entry_seq"])
    return price_list


def price_list_on(unit: Unit, day: date) -> PriceList | None:
    """Return the unit's list in force on `day`: the latest that starts by then."""
    return (
        PriceList.objects.filter(unit=unit, valid_from__lte=day)
        .order_by("-valid_from")
        .first()
    )


def prices_of(price_list: PriceList | None) -> dict[str, int]:
    if price_list is None:
        return {}
    return dict(price_list.items.values_list("material__code", "price_per_kg"))


# ---------------------------------------------------------------- deposits


def transfer_id_for(client_id: str, phase: str) -> str:
    return f"wastebank-{phase}:{client_id}"


def _check_client_id(client_id: str) -> None:
    if not isinstance(client_id, str) or not CLIENT_ID.match(client_id):
        raise fail(
            "client_id",
            _("The request id must be 1 to 40 letters, digits or . _ : -."),
        )


def _lines(
    items: Iterable[tuple[str, int]], prices: Mapping[str, int]
) -> list[events.Line]:
    """Value each (material code, grams) at the list's prices."""
    lines = []
    errors = []
    for position, (code, weight_g) in enumerate(items):
        field = f"items-{position}"
        if code not in prices:
            errors.append(
                FieldError(
                    field,
                    _("The price list has no price for %(material)s.")
                    % {"material": code},
                )
            )
            continue
        if not isinstance(weight_g, int) or not 0 < weight_g <= MAX_WEIGHT_G:
            errors.append(FieldError(field, _("The weight must be 1 g to 1000 kg.")))
            continue
        price = prices[code]
        lines.append(
            events.Line(
                material=code,
                weight_g=weight_g,
                price_per_kg=price,
                value=item_value(weight_g, price),
            )
        )
    if not errors and not lines:
        errors.append(FieldError("items", _("Enter at least one material.")))
    if len(lines) > MAX_ITEMS:
        errors.append(FieldError("items", _("Enter at most 30 materials.")))
    if errors:
        raise BankError(errors)
    return lines


def record_deposit(
    membership: Membership,
    items: Iterable[tuple[str, int]],
    *,
    client_id: str,
    teller: Any,
    day: date | None = None,
) -> Deposit:
    """Weigh in a deposit and reserve its value for the member's wallet.

    Returns the stored deposit when `client_id` was recorded before with the
    same member and items, and raises BankError when it was recorded with
    different ones. Raises BankError when the wallet rejects the credit, with
    the wallet's message (a mode or limit message, or the unit's balance).
    """
    unit = membership.unit
    require_teller(teller, unit)
    _check_client_id(client_id)
    price_list = price_list_on(unit, day or timezone.localdate())
    if price_list is None:
        raise fail("items", _("This unit has no price list yet; set prices first."))
    lines = _lines(items, prices_of(price_list))
    total = sum(line.value for line in lines)
    known = Deposit.objects.filter(client_id=client_id).first()
    if known is not None:
        return _same_deposit(known, membership, lines)
    if total <= 0:
        raise fail("items", _("The deposit is worth Rp0; weigh more material."))
    try:
        return _record(membership, lines, total, price_list, client_id, teller)
    except IntegrityError:
        # A concurrent request with the same id committed first.
        known = Deposit.objects.filter(client_id=client_id).first()
        if known is None:
            raise
        return _same_deposit(known, membership, lines)


def _same_deposit(
    known: Deposit, membership: Membership, lines: list[events.Line]
) -> Deposit:
    stored = [
        (item.material.code, item.weight_g)
        for item in known.items.select_related("material")
    ]
    if known.membership_id != membership.pk or stored != [
        (line.material, line.weight_g) for line in lines
    ]:
        raise fail(
            "client_id",
            _("This request id was used for another deposit; reload the page."),
            "id_conflict",
        )
    return known


def _record(
    membership: Membership,
    lines: list[events.Line],
    total: int,
    price_list: PriceList,
    client_id: str,
    teller: Any,
) -> Deposit:
    unit = membership.unit
    actor = actor_of(teller)
    with transaction.atomic():
        try:
            pending = wallet.submit(
                wallet.TransferRequest(
                    id=transfer_id_for(client_id, "deposit"),
                    debit=unit.account.number,
                    credit=membership.account.number,
                    amount=total,
                    kind=TransferKind.WASTE_BANK_CREDIT,
                    channel=Channel.COUNTER,
                    pending=True,
                    timeout_s=HOLD_S,
                    memo=membership.number,
                ),
                actor=actor,
            )
        except wallet.TransferRejected as error:
            raise _wallet_error(error, unit) from None
        deposit = Deposit.objects.create(
            unit=unit,
            membership=membership,
            teller=teller,
            client_id=client_id,
            total_value=total,
            pending_transfer=pending,
            created_at=pending.created_at,
        )
        materials = dict(Material.objects.values_list("code", "pk"))
        DepositItem.objects.bulk_create(
            DepositItem(
                deposit=deposit,
                material_id=materials[line.material],
                weight_g=line.weight_g,
                price_per_kg=line.price_per_kg,
                value=line.value,
            )
            for line in lines
        )
        journal.append(
            "wastebank.deposit.recorded",
            events.DepositRecorded(
                deposit_id=deposit.pk,
                unit_id=unit.pk,
                membership_id=membership.pk,
                client_id=client_id,
                transfer_client_id=pending.client_id,
                price_list_id=price_list.pk,
                items=lines,
                total_value=total,
            ),
            actor=actor,
        )
    logger.info("waste bank deposit recorded id=%s unit=%s", deposit.pk, unit.pk)
    return deposit


def _wallet_error(error: wallet.TransferRejected, unit: Unit) -> BankError:
    if error.code == "exceeds_balance" and error.field == "amount":
        return fail(
            "items",
            _(
                "The payout account of %(unit)s holds %(available)s, not enough "
                "for this deposit. Ask the city to top it up, then try again."
            )
            % {
                "unit": unit.name,
                "available": rupiah(Account.objects.get(pk=unit.account_id).available),
            },
            error.code,
        )
    return fail("items", error.message, error.code)
