"""Read-only admin pages of the levy.

Tariffs, bills and payments change only through `levy.services`, which
journals every change, so the admin shows them and offers no add, change or
delete.
"""

from django.contrib import admin

from kotacerdas.config.read_only_admin import ReadOnlyAdmin
from kotacerdas.levy.models import Bill, BillingRun, Payment, Tariff


@admin.register(Tariff)
class TariffAdmin(ReadOnlyAdmin):
    list_display = [
        "levy_class",
        "monthly_amount",
        "valid_from",
        "source",
        "created_at",
    ]
    list_filter = ["levy_class", "source"]


@admin.register(BillingRun)
class BillingRunAdmin(ReadOnlyAdmin):
    list_display = [
        "month", "status", "queued_at", "billed_count", "already_billed_count",
        "exempt_count", "no_va_count",
    ]  # fmt: skip
    list_filter = ["status"]


@admin.register(Bill)
class BillAdmin(ReadOnlyAdmin):
    list_display = [
        "number", "month", "kelurahan", "levy_class", "amount", "paid_amount",
        "status",
    ]  # fmt: skip
    list_filter = ["status", "month", "levy_class", "kelurahan"]
    search_fields = ["number", "building__plate_code"]
    list_select_related = ["kelurahan"]
    raw_id_fields = ["building", "household", "run", "tariff"]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["bill", "amount", "channel", "created_at"]
    list_filter = ["channel"]
    search_fields = ["bill__number", "transfer__reference"]
    raw_id_fields = ["bill", "transfer", "payer_account"]
