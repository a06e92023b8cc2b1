"""Filters of the waste statistics page: grams as kilograms, ratios as percent."""

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def kg(grams: int | None) -> str:
    """Format whole grams as kilograms with one decimal, in the reader's locale."""
    if grams is None:
        return "-"
    return number_format(grams / 1000, 1, use_l10n=True, force_grouping=True)


@register.filter
def percent(ratio: float | None) -> str:
    """Format a ratio as a percentage with one decimal; "-" when undefined."""
    if ratio is None:
        return "-"
    return number_format(100 * ratio, 1, use_l10n=True) + " %"
