"""Read-only admin pages of the city profile.

The profile files are the source of a city's data and `kotacerdas city load`
the only way to change them; RT/RW units are created by the registry through
`get_or_create_unit`, which journals them. The admin therefore only shows rows.
"""

from django.contrib import admin

from kotacerdas.city.models import Area, City, NeighbourhoodUnit
from kotacerdas.config.read_only_admin import ReadOnlyAdmin


@admin.register(City)
class CityAdmin(ReadOnlyAdmin):
    list_display = ["name", "code", "province_name", "loaded_at"]
    exclude = ["boundary"]


@admin.register(Area)
class AreaAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "level", "parent", "postal_code", "population"]
    list_filter = ["level", "parent"]
    search_fields = ["code", "compact_code", "name", "postal_code"]
    exclude = ["boundary"]


@admin.register(NeighbourhoodUnit)
class NeighbourhoodUnitAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "kelurahan"]
    list_filter = ["kelurahan"]
    search_fields = ["kelurahan__name", "rw", "rt"]
