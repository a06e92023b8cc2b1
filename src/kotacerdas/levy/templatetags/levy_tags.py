"""Template filters of the levy pages: rupiah amounts and receipt links."""

from django import template
from django.urls import reverse

from kotacerdas.wallet.display import rupiah as format_rupiah

register = template.Library()


@register.filter
def rupiah(amount: int | None) -> str:
    return "—" if amount is None else format_rupiah(amount)


@register.filter
def receipt_url(reference: str) -> str:
    """Return the public receipt page of a transfer reference."""
    return reverse("wallet:receipt", kwargs={"reference": reference})
