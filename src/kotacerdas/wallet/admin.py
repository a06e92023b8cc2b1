"""Read-only admin pages of the wallet.

Balances change only through `wallet.services`, which journals every
transfer, so the admin shows accounts and transfers and changes nothing.
PIN hashes stay off these pages.
"""

from django.contrib import admin

from kotacerdas.config.read_only_admin import ReadOnlyAdmin
from kotacerdas.wallet.models import Account, Transfer


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = [
        "number", "kind", "label", "tier", "status", "credits_posted",
        "debits_posted", "debits_pending", "credits_pending",
    ]  # fmt: skip
    list_filter = ["kind", "tier", "status"]
    search_fields = ["number", "label", "code"]
    exclude = ["member", "holder"]


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = [
        "reference", "created_at", "kind", "channel", "status", "amount",
        "debit_account", "credit_account", "entry_seq",
    ]  # fmt: skip
    list_filter = ["kind", "channel", "status", "phase"]
    search_fields = ["reference", "client_id", "memo"]
    list_select_related = ["debit_account", "credit_account"]
    date_hierarchy = "created_at"
