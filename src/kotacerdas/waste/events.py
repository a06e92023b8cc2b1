"""Journal event types of waste management: ids, codes, counts and grams only.

No event names a person: a pickup names its building or container and the
collector's user id, a credit names the building. Free text (reasons, review
notes) stays in the tables, because people type names into it. Each area's
replay checker rebuilds its rows from these events (see `checks`).
"""

from kotacerdas.journal.events import EventSchema, event_type

# ------------------------------------------------------------ places and fleet


@event_type("waste.site.saved")
class SiteSaved(EventSchema):
    site_id: int
    code: str
    kind: str
    kelurahan_code: str | None
    lat: str
    lng: str
    active: bool


@event_type("waste.container.saved")
class ContainerSaved(EventSchema):
    container_id: int
    plate_code: str
    site_id: int
    kelurahan_code: str
    lat: str
    lng: str
    volume_m3: str
    max_load_kg: int
    fill_threshold: str
    active: bool


@event_type("waste.vehicle.saved")
class VehicleSaved(EventSchema):
    vehicle_id: int
    plate_number: str
    kind: str
    capacity_kg: int
    capacity_m3: str
    depot_id: int
    status: str
    active: bool


@event_type("waste.schedule.saved")
class ScheduleSaved(EventSchema):
    schedule_id: int
    kelurahan_code: str
    unit_id: int | None
    service: str
    weekdays: str
    shift_start: str
    shift_end: str
    crew_id: int
    valid_from: str
    valid_to: str | None
    active: bool


# -------------------------------------------------------------------- routes


@event_type("waste.route.planned")
class RoutePlanned(EventSchema):
    plan_id: int
    date: str
    vehicle_id: int
    revision: int
    engine: str
    # Buildings and containers in visiting order, as "b:<id>" or "c:<id>".
    stops: list[str]
    trips: int
    distance_m: int
    reason: str


# ------------------------------------------------------------------- pickups


@event_type("waste.pickup.recorded")
class PickupRecorded(EventSchema):
    pickup_id: int
    client_id: str
    building_id: int | None
    container_id: int | None
    plan_id: int | None
    stop_id: int | None
    collector_id: int
    scanned_at: str
    outcome: str
    category: str
    weight_g: int | None
    volume_l: int | None
    distance_m: int | None
    duplicate_of: int | None
    flags: str
    review: str


@event_type("waste.pickup.reviewed")
class PickupReviewed(EventSchema):
    pickup_id: int
    review: str
    reviewer_id: int


@event_type("waste.service_credit.granted")
class ServiceCreditGranted(EventSchema):
    pickup_id: int
    building_id: int
    amount: int
    transfer_client_id: str


# ------------------------------------------------------------------- sensors


@event_type("waste.container.threshold_crossed")
class ThresholdCrossed(EventSchema):
    container_id: int
    fill_level: str
    threshold: str
    observed_at: str
