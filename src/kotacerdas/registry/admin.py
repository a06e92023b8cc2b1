"""Read-only admin pages of the registry.

Registry rows change only through `registry.services`, which journals every
change, so the admin shows them and offers no add, change or delete. Sealed
NIK and KK numbers, their search indexes and the salts stay off these pages.
"""

from django.contrib import admin

from kotacerdas.config.read_only_admin import ReadOnlyAdmin
from kotacerdas.registry.models import (
    Building,
    Household,
    ImportBatch,
    Member,
    Plate,
    Residence,
)

HIDDEN = ("details_salt", "kk_sealed", "kk_index", "nik_sealed", "nik_index")


class RegistryAdmin(ReadOnlyAdmin):
    exclude = HIDDEN


@admin.register(Building)
class BuildingAdmin(RegistryAdmin):
    list_display = [
        "plate_code", "kelurahan", "unit", "street_address", "use", "levy_class",
        "status",
    ]  # fmt: skip
    list_filter = ["status", "use", "levy_class", "kelurahan"]
    search_fields = ["plate_code", "street_address"]
    list_select_related = ["kelurahan", "unit"]


@admin.register(Plate)
class PlateAdmin(RegistryAdmin):
    list_display = [
        "code",
        "building",
        "status",
        "issued_at",
        "printed_at",
        "revoked_at",
    ]
    list_filter = ["status"]
    search_fields = ["code"]
    list_select_related = ["building"]


@admin.register(Household)
class HouseholdAdmin(RegistryAdmin):
    list_display = ["__str__", "building", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["building__plate_code"]
    list_select_related = ["building"]


@admin.register(Member)
class MemberAdmin(RegistryAdmin):
    list_display = ["__str__", "household", "relation", "sex", "status"]
    list_filter = ["status", "relation", "sex"]


@admin.register(Residence)
class ResidenceAdmin(RegistryAdmin):
    list_display = ["household", "building", "moved_in", "moved_out"]
    list_select_related = ["household", "building"]


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at", "created_by", "kelurahan", "file_name", "status",
        "row_count", "error_row_count", "imported_row_count",
    ]  # fmt: skip
    list_filter = ["status", "file_format"]
    list_select_related = ["created_by", "kelurahan"]
    # The problem list can run to megabytes; the import page shows it.
    exclude = ["problems"]
