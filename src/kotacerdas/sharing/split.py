"""A fee's amount on one payment and its split between the city and the partner.

Everything is integer rupiah. A rate fee (`qr_mdr`) is rounded down to the
rupiah, so the merchant never pays more than the rate. The split rounds the
share of the party that does not take the remainder down, and the party named
by the rule's `remainder_to` (the city by default) takes what is left. The two parts therefore always sum to the fee exactly.
"""

from dataclasses import dataclass

from kotacerdas.sharing.schedule import (
    BASIS_POINTS,
    CITY,
    QR_MDR,
    Fee,
    SharingRule,
)


@dataclass(frozen=True)
class Split:
    """A fee divided into the city's part and the partner's part."""

    fee_rupiah: int
    city_rupiah: int
    partner_rupiah: int


def fee_amount(fee: Fee, payment_rupiah: int) -> int:
    """Return the fee in rupiah on a payment, 0 at or below `free_up_to`."""
    if payment_rupiah <= 0:
        raise ValueError(f"payment_rupiah must be above zero, got {payment_rupiah}")
    if payment_rupiah <= fee.free_up_to:
        return 0
    if fee.kind == QR_MDR:
        return payment_rupiah * fee.rate_bp // BASIS_POINTS
    return fee.amount


def split_fee(fee_rupiah: int, rule: SharingRule) -> Split:
    """Split a fee by the rule's shares, giving the remainder to `remainder_to`."""
    if fee_rupiah < 0:
        raise ValueError(f"fee_rupiah must not be negative, got {fee_rupiah}")
    if rule.remainder_to == CITY:
        partner = fee_rupiah * rule.partner_bp // BASIS_POINTS
        city = fee_rupiah - partner
    else:
        city = fee_rupiah * rule.city_bp // BASIS_POINTS
        partner = fee_rupiah - city
    return Split(fee_rupiah=fee_rupiah, city_rupiah=city, partner_rupiah=partner)
