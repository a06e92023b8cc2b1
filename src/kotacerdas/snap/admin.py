"""Read-only admin pages for partner banks and the SNAP request record.

Partners are changed with `kotacerdas snap partner`, which seals the client
secret and checks the key, so the admin only shows them.
"""

from django.contrib import admin

from kotacerdas.config.read_only_admin import ReadOnlyAdmin
from kotacerdas.snap.models import SnapPartner, SnapPayment, SnapRequest


@admin.register(SnapPartner)
class SnapPartnerAdmin(ReadOnlyAdmin):
    list_display = [
        "partner_id",
        "name",
        "partner_service_id",
        "signature_mode",
        "active",
    ]
    exclude = ["client_secret_sealed"]


@admin.register(SnapRequest)
class SnapRequestAdmin(ReadOnlyAdmin):
    list_display = [
        "received_at",
        "service",
        "partner",
        "response_code",
        "customer_no",
        "transfer_reference",
        "duration_ms",
    ]
    list_filter = ["service", "response_code", "partner"]
    search_fields = [
        "=customer_no",
        "=request_id",
        "=transfer_reference",
        "=external_id",
    ]


@admin.register(SnapPayment)
class SnapPaymentAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "partner",
        "customer_no",
        "payment_request_id",
        "amount",
        "transfer_reference",
    ]
    search_fields = ["=customer_no", "=payment_request_id", "=transfer_reference"]
