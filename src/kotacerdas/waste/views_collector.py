"""The collector's phone page and its service worker.

The page embeds today's route, the plate keys and its messages, so a copy
cached by the service worker keeps working with no signal. Pickups recorded
offline wait in the phone's IndexedDB queue until collector.js sends them to
the pickups API.
"""

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from kotacerdas.registry.plates import offline_check_data
from kotacerdas.registry.scan import scan_texts
from kotacerdas.waste.models import Pickup, RouteStop, SortingGroup
from kotacerdas.waste.pickups import EXCEPTIONS, MAX_VOLUME_L, MAX_WEIGHT_G, REASON_MAX
from kotacerdas.waste.pickups_route import route_data

RECORD = "waste.record_pickup"
# Raise when the service worker or the page's assets change, so phones drop
# the old cached copies.
CACHE_VERSION = "collector-v2"


def collector_texts() -> dict[str, str]:
    """Messages collector.js shows; the plate-check ones are the scan page's."""
    texts = scan_texts()
    texts.update(
        {
            "queued": _("Saved on this phone. It will be sent when there is signal."),
            "synced": _("Sent to the server."),
            "sync_failed": _("The server did not accept this pickup:"),
            "no_gps": _("No GPS position: the pickup is recorded without one."),
            "unknown_point": _(
                "This plate is not on today's route. You may still record it."
            ),
            "read_photo_failed": _(
                "No QR code found in this photo. Take it again closer, or type the code."
            ),
            "reason_needed": _("Say why nothing was collected."),
            "offline_now": _("No signal: pickups are saved on this phone."),
            "online_now": _("Signal is back: sending saved pickups."),
            "stop_queued": _("Saved on this phone"),
            "stop_done": str(RouteStop.Status.DONE.label),
            "stop_exception": str(RouteStop.Status.EXCEPTION.label),
        }
    )
    return texts


@login_required
@permission_required(RECORD, raise_exception=True)
@require_GET
def collector_page(request: HttpRequest) -> HttpResponse:
    route = route_data(request.user)
    outcomes = [
        {"value": value, "label": label, "exception": value in EXCEPTIONS}
        for value, label in Pickup.Outcome.choices
    ]
    context: dict[str, Any] = {
        "route": route,
        "outcomes": outcomes,
        "categories": SortingGroup.choices,
        "plate_keys": offline_check_data(),
        "collector_texts": collector_texts(),
        "max_weight_kg": MAX_WEIGHT_G // 1000,
        "max_volume_l": MAX_VOLUME_L,
        "reason_max": REASON_MAX,
        "api_url": reverse("api:waste_pickup_create"),
        "route_url": reverse("api:waste_route_today"),
        "sw_url": reverse("waste:collector_sw"),
        "scope": reverse("waste:collector"),
        "tile_url": settings.KOTACERDAS_MAP_TILE_URL,
        "tile_attribution": settings.KOTACERDAS_MAP_TILE_ATTRIBUTION,
    }
    return render(request, "waste/collector/page.html", context)


@require_GET
@never_cache
def collector_service_worker(request: HttpRequest) -> HttpResponse:
    """Serve the service worker from /waste/collector/ so its scope covers the page.

    Served to anyone: it contains only asset addresses, and a signed-out
    browser may still hold a registration from an earlier session.
    """
    response = render(
        request,
        "waste/collector/sw.js",
        {"cache_version": CACHE_VERSION, "page_url": reverse("waste:collector")},
        content_type="text/javascript; charset=utf-8",
    )
    response["Service-Worker-Allowed"] = reverse("waste:collector")
    return response
