"""Stock per material and sales of stock to off-takers.

A unit's stock of a material is the weight of its accepted items in posted
deposits minus the weight it sold. A sale locks the Unit row first, so two
sales of the same unit are checked against the stock one after the other and
the stock never goes negative.
"""

import logging
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from kotacerdas.journal import services as journal
from kotacerdas.waste.bank import events
from kotacerdas.waste.bank.models import (
    Deposit,
    DepositItem,
    Offtaker,
    Sale,
    SaleItem,
    Unit,
)
from kotacerdas.waste.bank.services import (
    CLIENT_ID,
    MAX_ITEMS,
    MAX_PRICE_PER_KG,
    MAX_WEIGHT_G,
    BankError,
    FieldError,
    actor_of,
    fail,
    item_value,
    require_teller,
)
from kotacerdas.waste.models import Material

logger = logging.getLogger(__name__)


def stock_g(unit: Unit) -> dict[str, int]:
    """Return the unit's stock in grams by material code, leaving out zeros."""
    deposited = (
        DepositItem.objects.filter(
            deposit__unit=unit, deposit__status=Deposit.Status.POSTED, accepted=True
        )
        .values_list("material__code")
        .annotate(total=Sum("weight_g"))
    )
    sold = dict(
        SaleItem.objects.filter(sale__unit=unit)
        .values_list("material__code")
        .annotate(total=Sum("weight_g"))
    )
    stock = {code: total - sold.get(code, 0) for code, total in deposited}
    return {code: grams for code, grams in sorted(stock.items()) if grams}


def add_offtaker(unit: Unit, business_name: str, kind: str, user: Any) -> Offtaker:
    """Add a business that buys this unit's stock."""
    require_teller(user, unit)
    name = " ".join((business_name or "").split())
    if not name:
        raise fail("business_name", _("Enter the business name of the off-taker."))
    if kind not in Offtaker.Kind.values:
        raise fail("kind", _("Choose what kind of buyer this is."))
    if Offtaker.objects.filter(unit=unit, business_name__iexact=name).exists():
        raise fail("business_name", _("This unit already lists that business."))
    with transaction.atomic():
        offtaker = Offtaker.objects.create(
            unit=unit, business_name=name[:120], kind=kind
        )
        journal.append(
            "wastebank.offtaker.added",
            events.OfftakerAdded(offtaker_id=offtaker.pk, unit_id=unit.pk, kind=kind),
            actor=actor_of(user),
        )
    return offtaker


def record_sale(
    offtaker: Offtaker,
    items: Iterable[tuple[str, int, int]],
    *,
    client_id: str,
    user: Any,
    sold_on: date | None = None,
) -> Sale:
    """Record a sale of (material code, grams, rupiah per kg) lines from stock.

    Raises BankError naming the material when the lines of a material exceed
    the unit's stock, and then stores nothing. The same `client_id` returns the sale
    recorded before.
    """
    unit = offtaker.unit
    require_teller(user, unit)
    if not isinstance(client_id, str) or not CLIENT_ID.match(client_id):
        raise fail("client_id", _("The request id is invalid; reload the page."))
    known = Sale.objects.filter(client_id=client_id).first()
    if known is not None:
        return known
    lines = _sale_lines(items)
    try:
        with transaction.atomic():
            Unit.objects.select_for_update().get(pk=unit.pk)
            _check_stock(unit, lines)
            sale = _store_sale(offtaker, lines, client_id, user, sold_on)
    except IntegrityError:
        known = Sale.objects.filter(client_id=client_id).first()
        if known is None:
            raise
        return known
    logger.info("waste bank sale recorded id=%s unit=%s", sale.pk, unit.pk)
    return sale


def _sale_lines(items: Iterable[tuple[str, int, int]]) -> list[events.Line]:
    lines = []
    errors = []
    known = set(Material.objects.values_list("code", flat=True))
    for position, (code, weight_g, price) in enumerate(items):
        field = f"items-{position}"
        if code not in known:
            errors.append(FieldError(field, _("No material has the code %s.") % code))
        elif not 0 < weight_g <= MAX_WEIGHT_G:
            errors.append(FieldError(field, _("The weight must be 1 g to 1000 kg.")))
        elif not 0 < price <= MAX_PRICE_PER_KG:
            errors.append(
                FieldError(field, _("The price must be Rp1 to Rp1.000.000 per kg."))
            )
        else:
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


def _check_stock(unit: Unit, lines: list[events.Line]) -> None:
    stock = stock_g(unit)
    wanted: dict[str, int] = {}
    for line in lines:
        wanted[line.material] = wanted.get(line.material, 0) + line.weight_g
    labels = {m.code: m.label for m in Material.objects.filter(code__in=wanted)}
    errors = [
        FieldError(
            "items",
            _(
                "Only %(available)s kg of %(material)s is in stock, not "
                "%(wanted)s kg. Sell at most what is in stock."
            )
            % {
                "available": _kg(stock.get(code, 0)),
                "material": labels[code],
                "wanted": _kg(grams),
            },
            "exceeds_stock",
        )
        for code, grams in wanted.items()
        if grams > stock.get(code, 0)
    ]
    if errors:
        raise BankError(errors)


def _kg(grams: int) -> str:
    """Format grams as kilograms in the page's language, without trailing zeros."""
    return number_format(Decimal(grams) / 1000)


def _store_sale(
    offtaker: Offtaker,
    lines: list[events.Line],
    client_id: str,
    user: Any,
    sold_on: date | None,
) -> Sale:
    unit = offtaker.unit
    now = timezone.now()
    sold_on = sold_on or timezone.localdate(now)
    count = Sale.objects.filter(unit=unit).count()
    sale = Sale.objects.create(
        unit=unit,
        offtaker=offtaker,
        number=f"{unit.code[:12].upper()}-S{sold_on:%Y%m}-{count + 1:04d}",
        client_id=client_id,
        sold_on=sold_on,
        total_value=sum(line.value for line in lines),
        recorded_by=user,
        created_at=now,
    )
    materials = dict(Material.objects.values_list("code", "pk"))
    SaleItem.objects.bulk_create(
        SaleItem(
            sale=sale,
            material_id=materials[line.material],
            weight_g=line.weight_g,
            price_per_kg=line.price_per_kg,
            value=line.value,
        )
        for line in lines
    )
    entry = journal.append(
        "wastebank.sale.recorded",
        events.SaleRecorded(
            sale_id=sale.pk,
            unit_id=unit.pk,
            offtaker_id=offtaker.pk,
            number=sale.number,
            sold_on=sold_on.isoformat(),
            items=lines,
            total_value=sale.total_value,
        ),
        actor=actor_of(user),
    )
    sale.entry_seq = entry.seq
    sale.save(update_fields=["entry_seq"])
    return sale
