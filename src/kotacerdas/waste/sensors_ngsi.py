"""Containers as NGSI-LD WasteContainer entities (smart-data-models names).

Each container becomes an entity with id `urn:ngsi-ld:WasteContainer:<plate
code>`. Attributes are NGSI-LD Property objects; measured ones carry
`observedAt`, the time of the reading, and dates are {"@type": "DateTime",
"@value": ...} as NGSI-LD writes temporal values.
"""

from datetime import datetime
from decimal import Decimal
from typing import Any

from kotacerdas.waste.models import Container, SortingGroup

URN_PREFIX = "urn:ngsi-ld:WasteContainer:"
ENTITY_TYPE = "WasteContainer"
CONTEXT = [
    "https://raw.githubusercontent.com/smart-data-models/dataModel.WasteManagement/master/context.jsonld",
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld",
]
# The sorting groups of PP 81/2012 in WasteContainer's storedWasteKind terms;
# reusable, recyclable and residue waste has no closer term than "inorganic".
STORED_WASTE_KIND: dict[str, str] = {
    SortingGroup.ORGANIC: "organic",
    SortingGroup.HAZARDOUS: "hazardous",
    SortingGroup.RECYCLABLE: "inorganic",
    SortingGroup.REUSABLE: "inorganic",
    SortingGroup.RESIDUE: "other",
    SortingGroup.MIXED: "other",
}


def entity_id(container: Container) -> str:
    return f"{URN_PREFIX}{container.plate_code}"


def plate_code_of(urn: str) -> str | None:
    """Return the plate code in a WasteContainer URN, or None for another URN."""
    if not urn.startswith(URN_PREFIX):
        return None
    return urn[len(URN_PREFIX) :] or None


def _date(value: datetime) -> dict[str, str]:
    return {"@type": "DateTime", "@value": value.isoformat()}


def _property(value: Any, observed_at: datetime | None = None) -> dict[str, Any]:
    if isinstance(value, Decimal):
        value = float(value)
    prop: dict[str, Any] = {"type": "Property", "value": value}
    if observed_at is not None:
        prop["observedAt"] = observed_at.isoformat()
    return prop


def container_entity(container: Container, *, with_context: bool) -> dict[str, Any]:
    """Return the NGSI-LD entity of `container` (normalized form)."""
    observed = container.fill_observed_at
    entity: dict[str, Any] = {
        "id": entity_id(container),
        "type": ENTITY_TYPE,
        "name": _property(container.name),
        "location": {
            "type": "GeoProperty",
            "value": {
                "type": "Point",
                "coordinates": [float(container.lng), float(container.lat)],
            },
        },
        "status": _property(container.status, observed),
        "category": _property(["fixed"]),
        "storedWasteKind": _property(STORED_WASTE_KIND[container.stored_waste_kind]),
        "binCapacity": _property(container.volume_m3),
        "binMaxLoad": _property(container.max_load_kg),
        "binFullnessThreshold": _property(container.fill_threshold),
        "isleId": _property(container.site.code),
        "areaServed": _property(container.kelurahan.name),
    }
    if container.fill_level is not None:
        entity["fillingLevel"] = _property(container.fill_level, observed)
    if container.temperature_c is not None:
        entity["temperature"] = _property(container.temperature_c, observed)
    if container.last_emptied_at is not None:
        entity["dateLastEmptying"] = _property(_date(container.last_emptied_at))
    if container.sensor_id:
        entity["refDevice"] = {
            "type": "Relationship",
            "object": f"urn:ngsi-ld:Device:{container.sensor_id}",
        }
    if with_context:
        entity["@context"] = CONTEXT
    return entity
