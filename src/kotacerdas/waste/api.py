"""The waste app's JSON API under /api/waste, one router per area."""

from ninja import Router

router = Router()
