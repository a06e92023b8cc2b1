"""Labels and table rows of a statement, shared by its page, PDF and XLSX.

Every text is in the active language. Rows keep amounts as integers, so the
page and the PDF format them and the spreadsheet keeps them as numbers.
"""

import base64
from dataclasses import dataclass
from decimal import Decimal

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kotacerdas.sharing.models import CostCategory, PartnerCost
from kotacerdas.sharing.schedule import CASHOUT, CITY, LEVY_SERVICE, QR_MDR, TOPUP
from kotacerdas.sharing.statement import FEES_CITY, FEES_PARTNER, Rule, Statement
from kotacerdas.wallet.display import rupiah

PARTY_LABELS = {
    CITY: gettext_lazy("City government"),
    "partner": gettext_lazy("Technology partner"),
}
FEE_KIND_LABELS = {
    QR_MDR: gettext_lazy("QR payment merchant discount rate"),
    TOPUP: gettext_lazy("Top-up fee"),
    CASHOUT: gettext_lazy("Cash-out fee"),
    LEVY_SERVICE: gettext_lazy("Levy service fee"),
}
ACCOUNT_LABELS = {
    FEES_CITY: gettext_lazy("City's fee account (fees:city)"),
    FEES_PARTNER: gettext_lazy("Partner's fee account (fees:partner)"),
}


@dataclass(frozen=True)
class SummaryLine:
    label: str
    amount_rupiah: int
    strong: bool = False

    @property
    def text(self) -> str:
        return money(self.amount_rupiah)


def money(amount_rupiah: int) -> str:
    """Format rupiah with the sign before the symbol: -Rp1.284.100."""
    sign = "-" if amount_rupiah < 0 else ""
    return sign + rupiah(abs(amount_rupiah))


def party_label(party: str) -> str:
    return str(PARTY_LABELS.get(party, party))


def title(statement: Statement) -> str:
    return _("Sharing statement %(month)s: %(party)s") % {
        "month": formats.date_format(statement.month, "F Y"),
        "party": party_label(statement.party),
    }


def percent(basis_points: int) -> str:
    """Format basis points as a percentage: 4000 becomes "40 %"."""
    value = (Decimal(basis_points) / 100).normalize()
    return f"{formats.number_format(value)} %"


def rule_text(rule: Rule) -> str:
    return _(
        "from %(day)s: city %(city)s, partner %(partner)s, remainder to %(to)s"
    ) % {
        "day": rule.version,
        "city": percent(rule.city_bp),
        "partner": percent(rule.partner_bp),
        "to": party_label(rule.remainder_to),
    }


def rule_short(rule: Rule) -> str:
    """Name a rule by its date and shares, such as "2026-11-01: 40 % / 60 %"."""
    return f"{rule.version}: {percent(rule.city_bp)} / {percent(rule.partner_bp)}"


def summary(statement: Statement) -> list[SummaryLine]:
    own = party_label(statement.party)
    return [
        SummaryLine(_("Fees collected"), statement.fees_rupiah),
        SummaryLine(_("City's share of the fees"), statement.city_fees_rupiah),
        SummaryLine(_("Partner's share of the fees"), statement.partner_fees_rupiah),
        SummaryLine(_("Partner's costs"), statement.costs_rupiah),
        SummaryLine(
            _("City's share of the partner's costs"), statement.city_costs_rupiah
        ),
        SummaryLine(
            _("Partner's share of its own costs"), statement.partner_costs_rupiah
        ),
        SummaryLine(
            _("%(party)s: share of the fees less share of the costs") % {"party": own},
            statement.party_net_rupiah,
            strong=True,
        ),
        SummaryLine(
            _("Owed by the city to the partner"),
            statement.owed_to_partner_rupiah,
            strong=True,
        ),
    ]


def owed_explanation() -> str:
    return _(
        "The partner's share of each fee is credited to the partner's fee"
        " account in the city's ledger and is owed to the partner until it is"
        " paid out. The city bears its share of the partner's costs by the"
        " same rule. So the city owes the partner the partner's share of the"
        " fees plus the city's share of the costs."
    )


def revenue_headings() -> list[str]:
    return [
        _("Fee code"),
        _("Fee"),
        _("Rule (city / partner)"),
        _("Payments"),
        _("Fees (Rp)"),
        _("City (Rp)"),
        _("Partner (Rp)"),
    ]


def revenue_rows(statement: Statement) -> list[list[str | int]]:
    return [
        [
            line.fee_code,
            str(FEE_KIND_LABELS.get(line.fee_kind, line.fee_kind)),
            rule_short(line.rule),
            line.payments,
            line.fee_rupiah,
            line.city_rupiah,
            line.partner_rupiah,
        ]
        for line in statement.revenue
    ]


def cost_headings() -> list[str]:
    return [
        _("Date"),
        _("Cost"),
        _("Pilot"),
        _("Category"),
        _("Description"),
        _("Amount (Rp)"),
        _("City (Rp)"),
        _("Partner (Rp)"),
    ]


def cost_rows(statement: Statement) -> list[list[str | int]]:
    """Return the cost lines; descriptions come from the cost table."""
    ids = [line.cost_id for line in statement.costs]
    descriptions = dict(
        PartnerCost.objects.filter(pk__in=ids).values_list("pk", "description")
    )
    rows: list[list[str | int]] = []
    for line in statement.costs:
        label = str(CostCategory(line.category).label)
        number = f"#{line.cost_id}"
        if line.corrects_cost_id is not None:
            number = _("#%(cost)s (corrects #%(old)s)") % {
                "cost": line.cost_id,
                "old": line.corrects_cost_id,
            }
        rows.append(
            [
                line.incurred_on.isoformat(),
                number,
                line.pilot_slug,
                label,
                descriptions.get(line.cost_id, ""),
                line.amount_rupiah,
                line.city_rupiah,
                line.partner_rupiah,
            ]
        )
    return rows


def movement_headings() -> list[str]:
    return [_("Account"), _("Credits (Rp)"), _("Debits (Rp)"), _("Net (Rp)")]


def movement_rows(statement: Statement) -> list[list[str | int]]:
    return [
        [
            str(ACCOUNT_LABELS[code]),
            movement.credits_rupiah,
            movement.debits_rupiah,
            movement.net_rupiah,
        ]
        for code, movement in sorted(statement.movements.items())
    ]


def _block_texts(statement: Statement) -> list[str]:
    """Name the signed block that covers the statement's entries, if any."""
    block = statement.block
    if block is None:
        return [_("No block was sealed yet when the statement was computed.")]
    texts = [
        _(
            "Block %(height)s, sealed %(sealed)s, has tree size %(size)s and"
            " root hash (base64, as in its signed checkpoint) %(root)s."
        )
        % {
            "height": block.height,
            "size": block.tree_size,
            "sealed": formats.date_format(
                timezone.localtime(block.sealed_at), "j F Y H:i"
            ),
            "root": base64.b64encode(bytes(block.root_hash)).decode(),
        }
    ]
    if block.tree_size < statement.position:
        texts.append(
            _(
                "Entries %(first)s to %(last)s were not sealed yet; a later"
                " block will cover them."
            )
            % {"first": block.tree_size, "last": statement.position - 1}
        )
    return texts


def provenance(statement: Statement) -> list[str]:
    """Describe the journal position and the latest block in sentences."""
    texts = [
        _(
            "Computed from the journal's first %(size)s entries (0 to %(last)s)"
            " and nothing else. Computing this month again at position"
            " %(size)s gives the same figures."
        )
        % {"size": statement.position, "last": statement.position - 1}
    ]
    texts += _block_texts(statement)
    if statement.shares_match_movements():
        texts.append(
            _(
                "Each party's share of the fees equals the credits to its fee"
                " account in the month."
            )
        )
    else:
        texts.append(
            _(
                "Warning: the shares of the fees differ from the credits to the"
                " fee accounts in the month. Run `kotacerdas ledger verify`."
            )
        )
    return texts
