"""Read-only admin pages of the waste app's core rows.

Waste rows change only through the area services, which journal every
change, so the admin shows them and offers no add, change or delete. A
pickup's free-text reason and review note are left off, because collectors
and reviewers may type names into them.
"""

from django.contrib import admin

from kotacerdas.config.read_only_admin import ReadOnlyAdmin
from kotacerdas.waste.models import (
    Alert,
    Container,
    Crew,
    Material,
    Pickup,
    RoutePlan,
    RouteStop,
    Schedule,
    SensorReading,
    SensorRejection,
    ServiceCredit,
    Site,
    Vehicle,
)


@admin.register(Material)
class MaterialAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "sipsn_category", "sorting_group", "active"]
    list_filter = ["sipsn_category", "sorting_group", "active"]


@admin.register(Site)
class SiteAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "kind", "kelurahan", "active"]
    list_filter = ["kind", "active", "kelurahan"]
    search_fields = ["code", "name"]
    list_select_related = ["kelurahan"]


@admin.register(Container)
class ContainerAdmin(ReadOnlyAdmin):
    list_display = [
        "plate_code", "name", "site", "kelurahan", "fill_level", "status", "active",
    ]  # fmt: skip
    list_filter = ["status", "active", "kelurahan"]
    search_fields = ["plate_code", "name", "sensor_id"]
    list_select_related = ["site", "kelurahan"]


@admin.register(Vehicle)
class VehicleAdmin(ReadOnlyAdmin):
    list_display = ["plate_number", "kind", "capacity_kg", "depot", "status", "active"]
    list_filter = ["kind", "status", "active"]
    search_fields = ["plate_number"]
    list_select_related = ["depot"]


@admin.register(Crew)
class CrewAdmin(ReadOnlyAdmin):
    list_display = ["name", "vehicle", "active"]
    list_select_related = ["vehicle"]


@admin.register(Schedule)
class ScheduleAdmin(ReadOnlyAdmin):
    list_display = [
        "kelurahan", "unit", "service", "weekdays", "shift_start", "shift_end", "crew",
        "active",
    ]  # fmt: skip
    list_filter = ["service", "active", "kelurahan"]
    list_select_related = ["kelurahan", "unit", "crew"]


@admin.register(RoutePlan)
class RoutePlanAdmin(ReadOnlyAdmin):
    list_display = ["date", "vehicle", "status", "revision", "distance_m", "trips"]
    list_filter = ["status", "date"]
    list_select_related = ["vehicle"]


@admin.register(RouteStop)
class RouteStopAdmin(ReadOnlyAdmin):
    list_display = ["plan", "sequence", "kind", "arrival", "status"]
    list_filter = ["kind", "status"]
    list_select_related = ["plan"]


@admin.register(Pickup)
class PickupAdmin(ReadOnlyAdmin):
    list_display = [
        "client_id", "scanned_at", "outcome", "category", "weight_g", "review",
        "collector",
    ]  # fmt: skip
    list_filter = ["outcome", "review", "category"]
    list_select_related = ["collector"]
    exclude = ["reason", "review_note", "photo"]


@admin.register(ServiceCredit)
class ServiceCreditAdmin(ReadOnlyAdmin):
    list_display = ["transfer_client_id", "building", "amount", "created_at"]
    list_select_related = ["building"]


@admin.register(SensorReading)
class SensorReadingAdmin(ReadOnlyAdmin):
    list_display = ["container", "observed_at", "fill_level", "battery", "source"]
    list_filter = ["source"]
    list_select_related = ["container"]


@admin.register(SensorRejection)
class SensorRejectionAdmin(ReadOnlyAdmin):
    list_display = ["source", "reason", "origin", "received_at"]
    list_filter = ["source", "reason"]


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ["kind", "opened_at", "cleared_at", "container", "vehicle"]
    list_filter = ["kind"]
    list_select_related = ["container", "vehicle"]
