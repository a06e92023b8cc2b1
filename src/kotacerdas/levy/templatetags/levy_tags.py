"""Template filters of the levy pages: rupiah amounts and receipt links."""

from django import template

from kotacerdas.wallet.display import rupiah as format_rupiah

register = template.Library()


@register.filter
def rupiah(amount: int | None) -> str:
    return "—" if amount is None else format_rupiah(amount)


@register.filter
def receipt_url(reference: str) -> str:
    """Return the public receipt page of a transfer reference."""
    # NOTE: the wallet's receipt page serves /receipts/<reference>/; the path
    # is written out because that page's URL name is not fixed yet.
    return f"/receipts/{reference}/"
