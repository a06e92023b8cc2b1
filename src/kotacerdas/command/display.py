"""Figures formatted for the reader's language: counts, rupiah, weights, rates.

Grouping and decimal marks come from Django's locale formats, so Indonesian
reads "Rp1.234.567" and "12,5 t" where English reads "Rp1,234,567" and
"12.5 t". Values are rounded half up before formatting, because Django's
`number_format` cuts the digits of a Decimal off instead of rounding them.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from kotacerdas.wallet.display import rupiah

MISSING = "\u2013"  # an en dash
GRAMS_PER_KG = 1000
GRAMS_PER_TONNE = 1_000_000


def count(value: int) -> str:
    return number_format(value, force_grouping=True)


def decimal(value: Decimal, places: int) -> str:
    """Format `value` rounded half up to `places` decimals, grouped."""
    step = Decimal(1).scaleb(-places)
    rounded = value.quantize(step, rounding=ROUND_HALF_UP)
    return number_format(rounded, places, force_grouping=True)


def grams(value: int) -> str:
    """Format a weight in grams as kilograms, or as tonnes from one tonne up."""
    if abs(value) >= GRAMS_PER_TONNE:
        return _("%(amount)s t") % {
            "amount": decimal(Decimal(value) / GRAMS_PER_TONNE, 2)
        }
    return _("%(amount)s kg") % {"amount": decimal(Decimal(value) / GRAMS_PER_KG, 1)}


def percent_tenths(value: int) -> str:
    """Format tenths of a percent (875) as a percentage with one decimal (87.5 %)."""
    return _("%(amount)s %%") % {"amount": decimal(Decimal(value) / 10, 1)}


def figure_value(unit: str, value: int | None) -> str:
    """Format a figure's value by its unit: count, rupiah, grams or percent."""
    if value is None:
        return MISSING
    if unit == "rupiah":
        return rupiah(value)
    if unit == "grams":
        return grams(value)
    if unit == "percent":
        return percent_tenths(value)
    return count(value)


def age(seconds: int) -> str:
    """Format an age in the largest whole unit: 45 s, 12 min, 3 h or 2 d."""
    seconds = max(seconds, 0)
    if seconds < 60:
        return _("%(count)s s") % {"count": seconds}
    if seconds < 3600:
        return _("%(count)s min") % {"count": seconds // 60}
    if seconds < 86400:
        return _("%(count)s h") % {"count": seconds // 3600}
    return _("%(count)s d") % {"count": seconds // 86400}
