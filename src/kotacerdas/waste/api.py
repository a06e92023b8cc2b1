"""The waste app's JSON API under /api/waste, one router per area."""

from ninja import Router

router = Router()
router.add_router("", "kotacerdas.waste.api_sensors.router", tags=["waste sensors"])
router.add_router(
    "/pickups", "kotacerdas.waste.api_pickups.router", tags=["waste pickups"]
)
