"""The city's dated fee schedule and sharing rules, read from its profile.

The profile lists `[[fees]]` and `[[sharing]]` entries, each with a
`valid_from` date. On any day the entry of a kind with the latest
`valid_from` on or before that day applies, so a new fee or rule is added as
a new entry and never replaces one already in force. `check_amendment` rejects
a reloaded profile that changes, removes or back-dates an entry that already
applied, which keeps the schedule of past days fixed.

This module reads plain values only. Dates are stored in `City.settings` as
ISO strings, because the settings are a JSON field.
"""

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

QR_MDR = "qr_mdr"
TOPUP = "topup"
CASHOUT = "cashout"
LEVY_SERVICE = "levy_service"
FEE_KINDS = (QR_MDR, TOPUP, CASHOUT, LEVY_SERVICE)

PAYER = "payer"
MERCHANT = "merchant"
CITY = "city"
PARTNER = "partner"
# The bearers allowed for each kind of fee. Bank Indonesia forbids passing the QRIS
# merchant discount rate on to the payer, so only the merchant bears it. A
# top-up or cash-out fee is the wallet holder's. A levy service fee is the
# payer's or, to keep paying the city free of charge, the city's.
BEARERS = {
    QR_MDR: (MERCHANT,),
    TOPUP: (PAYER,),
    CASHOUT: (PAYER,),
    LEVY_SERVICE: (PAYER, CITY),
}
PARTIES = (CITY, PARTNER)
BASIS_POINTS = 10_000
MAX_FLAT_FEE = 1_000_000
CODE_MAX = 32


class ScheduleError(ValueError):
    """An invalid `[[fees]]` or `[[sharing]]` entry; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class Fee:
    """One dated fee: a rate in basis points (`qr_mdr`) or a flat amount.

    No fee is charged on a payment of `free_up_to` rupiah or less.
    """

    code: str
    kind: str
    valid_from: date
    bearer: str
    rate_bp: int = 0
    amount: int = 0
    free_up_to: int = 0


@dataclass(frozen=True)
class SharingRule:
    """One dated split of every fee between the city and the partner.

    The shares are basis points that sum to 10000. The party named by
    `remainder_to` receives the rupiah that the integer split leaves over.
    """

    valid_from: date
    city_bp: int
    partner_bp: int
    remainder_to: str = CITY

    @property
    def version(self) -> str:
        return self.valid_from.isoformat()


def read_section(config: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Check a profile's `fees` and `sharing` arrays and return them JSON-ready.

    Raises ScheduleError naming the first invalid field, e.g. `fees[1].rate_bp`.
    """
    fees = parse_fees(config.get("fees", []))
    rules = parse_rules(config.get("sharing", []))
    _check_rule_covers_fees(fees, rules)
    return {
        "fees": [_stored(asdict(fee)) for fee in fees],
        "sharing": [_stored(asdict(rule)) for rule in rules],
    }


def fees_of(settings: Mapping[str, Any]) -> list[Fee]:
    return parse_fees(settings.get("fees", []))


def rules_of(settings: Mapping[str, Any]) -> list[SharingRule]:
    return parse_rules(settings.get("sharing", []))


def fee_on(fees: Sequence[Fee], kind: str, day: date) -> Fee | None:
    """Return the fee of `kind` in force on `day`, or None before the first one."""
    current = [fee for fee in fees if fee.kind == kind and fee.valid_from <= day]
    return max(current, key=lambda fee: fee.valid_from, default=None)


def rule_on(rules: Sequence[SharingRule], day: date) -> SharingRule | None:
    """Return the sharing rule in force on `day`, or None before the first one."""
    current = [rule for rule in rules if rule.valid_from <= day]
    return max(current, key=lambda rule: rule.valid_from, default=None)


def check_amendment(
    stored: Mapping[str, Any], new: Mapping[str, Any], today: date
) -> None:
    """Reject a new schedule that changes what applied on or before `today`.

    Every stored entry dated on or before today must be in the new schedule
    unchanged, and the new schedule may add entries dated after today only.
    A city stored before profiles had a schedule takes its first one as is.
    """
    for section in ("fees", "sharing"):
        if section not in stored:
            continue
        old_entries = _applied(stored.get(section, []), today)
        new_entries = _applied(new.get(section, []), today)
        for index, entry in enumerate(new.get(section, [])):
            if _stored(entry) not in old_entries and _day(entry) <= today:
                raise ScheduleError(
                    f"{section}[{index}].valid_from",
                    f"an entry dated {entry['valid_from']} would change days that "
                    "already passed; date the new entry after today",
                )
        for entry in old_entries:
            if entry not in new_entries:
                raise ScheduleError(
                    section,
                    f"the entry dated {entry['valid_from']} already applied and "
                    "cannot be changed or removed; add a new entry dated after today",
                )


def parse_fees(raw: object) -> list[Fee]:
    entries = _entries(raw, "fees")
    fees = [_fee(entry, f"fees[{index}]") for index, entry in enumerate(entries)]
    seen_codes: set[str] = set()
    seen_dates: set[tuple[str, date]] = set()
    for index, fee in enumerate(fees):
        if fee.code in seen_codes:
            raise ScheduleError(
                f"fees[{index}].code", f"the code {fee.code!r} is used twice"
            )
        if (fee.kind, fee.valid_from) in seen_dates:
            raise ScheduleError(
                f"fees[{index}].valid_from",
                f"two {fee.kind} fees start on {fee.valid_from}; give each a "
                "different date",
            )
        seen_codes.add(fee.code)
        seen_dates.add((fee.kind, fee.valid_from))
    return fees


def parse_rules(raw: object) -> list[SharingRule]:
    entries = _entries(raw, "sharing")
    rules = [_rule(entry, f"sharing[{index}]") for index, entry in enumerate(entries)]
    seen: set[date] = set()
    for index, rule in enumerate(rules):
        if rule.valid_from in seen:
            raise ScheduleError(
                f"sharing[{index}].valid_from",
                f"two sharing rules start on {rule.valid_from}",
            )
        seen.add(rule.valid_from)
    return rules


def _fee(entry: Mapping[str, Any], where: str) -> Fee:
    _only_keys(
        entry,
        where,
        {"code", "kind", "valid_from", "bearer", "rate_bp", "amount", "free_up_to"},
    )
    code = _text(entry, "code", where)
    if len(code) > CODE_MAX:
        raise ScheduleError(f"{where}.code", f"must be at most {CODE_MAX} characters")
    kind = _choice(entry, "kind", where, FEE_KINDS)
    bearer = _choice(entry, "bearer", where, BEARERS[kind])
    if kind == QR_MDR:
        rate_bp = _whole(entry, "rate_bp", where, maximum=BASIS_POINTS)
        if entry.get("amount"):
            raise ScheduleError(
                f"{where}.amount",
                "a qr_mdr fee is a rate; set rate_bp (basis points, 30 = 0.3%) "
                "instead of amount",
            )
        amount = 0
    else:
        amount = _whole(entry, "amount", where, maximum=MAX_FLAT_FEE)
        if entry.get("rate_bp"):
            raise ScheduleError(
                f"{where}.rate_bp",
                f"a {kind} fee is a flat amount; set amount (rupiah) instead of rate_bp",
            )
        rate_bp = 0
    return Fee(
        code=code,
        kind=kind,
        valid_from=_date(entry, "valid_from", where),
        bearer=bearer,
        rate_bp=rate_bp,
        amount=amount,
        free_up_to=_whole(entry, "free_up_to", where, maximum=10**15, default=0),
    )


def _rule(entry: Mapping[str, Any], where: str) -> SharingRule:
    _only_keys(entry, where, {"valid_from", "city_bp", "partner_bp", "remainder_to"})
    city_bp = _whole(entry, "city_bp", where, maximum=BASIS_POINTS)
    partner_bp = _whole(entry, "partner_bp", where, maximum=BASIS_POINTS)
    if city_bp + partner_bp != BASIS_POINTS:
        raise ScheduleError(
            f"{where}.partner_bp",
            f"city_bp ({city_bp}) and partner_bp ({partner_bp}) must sum to "
            f"{BASIS_POINTS}",
        )
    remainder_to = CITY
    if "remainder_to" in entry:
        remainder_to = _choice(entry, "remainder_to", where, PARTIES)
    return SharingRule(
        valid_from=_date(entry, "valid_from", where),
        city_bp=city_bp,
        partner_bp=partner_bp,
        remainder_to=remainder_to,
    )


def _check_rule_covers_fees(fees: list[Fee], rules: list[SharingRule]) -> None:
    for index, fee in enumerate(fees):
        if rule_on(rules, fee.valid_from) is None:
            raise ScheduleError(
                f"fees[{index}].valid_from",
                f"no [[sharing]] rule is in force on {fee.valid_from}; add one "
                "dated on or before the fee",
            )


def _entries(raw: object, section: str) -> list[Mapping[str, Any]]:
    if not isinstance(raw, list) or not all(isinstance(e, Mapping) for e in raw):
        raise ScheduleError(section, f"must be an array of tables ([[{section}]])")
    return raw


def _only_keys(entry: Mapping[str, Any], where: str, known: set[str]) -> None:
    unknown = sorted(set(entry) - known)
    if unknown:
        raise ScheduleError(
            f"{where}.{unknown[0]}",
            f"unknown field; use {', '.join(sorted(known))}",
        )


def _text(entry: Mapping[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ScheduleError(f"{where}.{key}", "is missing or empty")
    return value.strip()


def _choice(
    entry: Mapping[str, Any], key: str, where: str, choices: Sequence[str]
) -> str:
    value = entry.get(key)
    if value not in choices:
        raise ScheduleError(
            f"{where}.{key}", f"{value!r} is invalid; use one of {', '.join(choices)}"
        )
    return str(value)


def _whole(
    entry: Mapping[str, Any],
    key: str,
    where: str,
    *,
    maximum: int,
    default: int | None = None,
) -> int:
    value = entry.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScheduleError(f"{where}.{key}", "must be a whole number")
    if not 0 <= value <= maximum:
        raise ScheduleError(f"{where}.{key}", f"must be from 0 to {maximum}")
    return value


def _date(entry: Mapping[str, Any], key: str, where: str) -> date:
    value = entry.get(key)
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ScheduleError(f"{where}.{key}", "must be a date such as 2026-11-01")


def _stored(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: value.isoformat() if isinstance(value, date) else value
        for key, value in entry.items()
    }


def _day(entry: Mapping[str, Any]) -> date:
    value = entry["valid_from"]
    return value if isinstance(value, date) else date.fromisoformat(value)


def _applied(entries: Sequence[Mapping[str, Any]], today: date) -> list[dict[str, Any]]:
    return [_stored(entry) for entry in entries if _day(entry) <= today]
