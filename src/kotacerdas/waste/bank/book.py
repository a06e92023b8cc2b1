"""The savings book (buku tabungan) of a member, on a page and as a PDF.

The book's balance is the member's waste bank savings: credits posted for
deposits at this unit minus the wallet's cash-outs since joining. In emoney
mode the credit is ordinary wallet money, so a "withdrawal" is the wallet's
cash-out at a counter; in closed_loop mode there is no cash-out and the
savings are spent on levies inside the city credit.

NOTE: a cash-out may spend money that came from top-ups rather than the
waste bank, so the book's balance can go below zero; the wallet's own
balance is the authority on what the member can spend.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from kotacerdas.wallet import flows
from kotacerdas.wallet.models import Transfer, TransferKind, TransferStatus
from kotacerdas.waste.bank.models import Deposit, Membership
from kotacerdas.waste.models import Material

PDF_ROWS_MAX = 500


@dataclass(frozen=True)
class BookRow:
    at: datetime
    text: str
    status: str
    credit: int
    debit: int
    balance: int


def stock_rows(stock: dict[str, int]) -> list[tuple[str, str, int, str]]:
    """Return (code, label, grams, kg text) for a stock mapping, by code."""
    labels = {m.code: m.label for m in Material.objects.filter(code__in=list(stock))}
    return [(code, labels[code], grams, _kg(grams)) for code, grams in stock.items()]


def price_rows(prices: dict[str, int]) -> list[tuple[str, str, int]]:
    """Return (code, label, Rp per kg) for a price mapping, by label."""
    labels = {m.code: m.label for m in Material.objects.filter(code__in=list(prices))}
    rows = [(code, labels[code], price) for code, price in prices.items()]
    return sorted(rows, key=lambda row: row[1].casefold())


def book_rows(membership: Membership) -> list[BookRow]:
    """Return the book's rows oldest first; pending deposits add no balance."""
    events: list[tuple[datetime, int, Any]] = []
    for deposit in membership.deposits.prefetch_related("items__material"):
        events.append((deposit.created_at, deposit.pk, deposit))
    cash_outs = Transfer.objects.filter(
        debit_account=membership.account,
        kind=TransferKind.WITHDRAWAL,
        status=TransferStatus.POSTED,
        created_at__date__gte=membership.joined_on,
    )
    for transfer in cash_outs:
        events.append((transfer.created_at, transfer.pk, transfer))
    events.sort(key=lambda event: (event[0], event[1]))

    rows = []
    balance = 0
    for at, _pk, source in events:
        if isinstance(source, Deposit):
            credit = source.posted_value
            balance += credit
            rows.append(
                BookRow(
                    at,
                    _deposit_text(source),
                    source.get_status_display(),
                    credit,
                    0,
                    balance,
                )
            )
        else:
            balance -= source.amount
            rows.append(
                BookRow(
                    at,
                    _("Cash-out at a counter"),
                    _("Posted"),
                    0,
                    source.amount,
                    balance,
                )
            )
    return rows


def _deposit_text(deposit: Deposit) -> str:
    parts = []
    for item in deposit.items.all():
        part = f"{item.material.label} {_kg(item.weight_g)} kg"
        if deposit.status == Deposit.Status.POSTED and not item.accepted:
            part += " " + _("(rejected at sorting, Rp%(value)s not credited)") % {
                "value": number_format(item.value, force_grouping=True)
            }
        parts.append(part)
    text = _("Deposit: %(items)s") % {"items": ", ".join(parts)}
    if deposit.status == Deposit.Status.PENDING:
        text += " " + _("(Rp%(value)s waiting for the sorting check)") % {
            "value": number_format(deposit.total_value, force_grouping=True)
        }
    return text


def _kg(grams: int) -> str:
    return number_format(grams / 1000, decimal_pos=3)


def book_context(membership: Membership) -> dict[str, Any]:
    rows = book_rows(membership)
    return {
        "rows": rows,
        "balance": rows[-1].balance if rows else 0,
        "pending_value": sum(
            d.total_value
            for d in membership.deposits.filter(status=Deposit.Status.PENDING)
        ),
        "cash_out_blocked": flows.blocked_message(TransferKind.WITHDRAWAL),
    }


def render_pdf(membership: Membership) -> bytes:
    """Render the book as an A4 PDF in the core Helvetica font."""
    # fpdf2 is slow to import, so only the PDF view pays for it.
    from fpdf import FPDF

    context = book_context(membership)
    pdf = FPDF(unit="mm", format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", style="B", size=14)
    pdf.cell(
        0, 8, _latin1(_("Savings book (buku tabungan)")), new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font("Helvetica", size=10)
    header = _("%(unit)s · member %(number)s · printed %(day)s") % {
        "unit": membership.unit.name,
        "number": membership.number,
        "day": timezone.localdate().isoformat(),
    }
    pdf.cell(0, 6, _latin1(header), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    # A table wraps long entries, such as an item rejected at sorting,
    # instead of cutting them off.
    titles = (_("Date"), _("Entry"), _("In (Rp)"), _("Out (Rp)"), _("Balance (Rp)"))
    pdf.set_font("Helvetica", size=8)
    with pdf.table(
        col_widths=(28, 92, 22, 22, 26),
        text_align=("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT"),
        line_height=4,
    ) as table:
        table.row([_latin1(title) for title in titles])
        for row in context["rows"][-PDF_ROWS_MAX:]:
            cells = (
                timezone.localtime(row.at).strftime("%Y-%m-%d %H:%M"),
                f"{row.text} ({row.status})",
                _amount(row.credit),
                _amount(row.debit),
                _amount(row.balance),
            )
            table.row([_latin1(text) for text in cells])
    return bytes(pdf.output())


def _amount(value: int) -> str:
    return number_format(value, force_grouping=True) if value else ""


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")
