"""The command center's city map: the full page and its GeoJSON layers.

A page that includes `command/_map.html` passes `map_context()` to give the
map the city's centre and the tile server. Without it, the map fits itself
to the kelurahan boundaries and draws no street tiles.
"""

import logging
import math
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from kotacerdas.city.models import City
from kotacerdas.command import map_layers
from kotacerdas.command.access import PERMISSION, dashboard_view
from kotacerdas.registry.queries import BoundingBox

logger = logging.getLogger(__name__)

MAX_ZOOM = 22
GEOJSON = "application/geo+json"


class LayerParameterError(ValueError):
    """Invalid query parameter of a layer request, with the name of its field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def error_response(
    code: str, message: str, status: int, field: str | None = None
) -> JsonResponse:
    """Return the error shape of the project's JSON API."""
    body = {"error": {"code": code, "message": message, "field": field}}
    return JsonResponse(body, status=status)


def map_context() -> dict[str, Any]:
    """Return the `command_map` context variable that `_map.html` reads."""
    city = City.objects.order_by("id").first()
    return {
        "command_map": {
            "center": [city.center_lat, city.center_lng] if city else [],
            "zoom": city.default_zoom if city else "",
            "tile_url": settings.KOTACERDAS_MAP_TILE_URL,
            "tile_attribution": settings.KOTACERDAS_MAP_TILE_ATTRIBUTION,
            "time_zone": settings.TIME_ZONE,
        }
    }


@dashboard_view
def map_page(request: HttpRequest) -> HttpResponse:
    return render(request, "command/map.html", map_context())


# ------------------------------------------------------------------ layers

LayerView = Callable[[HttpRequest, str], HttpResponse]


def layer_view(view: LayerView) -> LayerView:
    """Wrap a JSON view: login page for anonymous users, 403 JSON for others."""

    @wraps(view)
    def wrapped(request: HttpRequest, layer: str) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.has_perm(PERMISSION):
            logger.info(
                "map layer forbidden",
                extra={"layer": layer, "user_id": request.user.pk},
            )
            message = _("Only command center, admin and auditor roles see the map.")
            return error_response("forbidden", message, 403)
        return view(request, layer)

    return wrapped


def parse_bbox(text: str) -> BoundingBox:
    """Parse "west,south,east,north" in degrees, raising LayerParameterError."""
    example = _("Send west,south,east,north in degrees, such as %(example)s.") % {
        "example": "100.38,-0.49,100.42,-0.45"
    }
    parts = text.split(",")
    if len(parts) != 4:
        message = _("bbox must have 4 numbers, not %(count)d.") % {"count": len(parts)}
        raise LayerParameterError("bbox", f"{message} {example}")
    numbers = []
    for part in parts:
        try:
            number = float(part)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            message = _("bbox value '%(value)s' is not a number.") % {
                "value": part.strip()[:20]
            }
            raise LayerParameterError("bbox", f"{message} {example}")
        numbers.append(number)
    west, south, east, north = numbers
    if not (-180 <= west <= 180 and -180 <= east <= 180):
        message = _("bbox longitudes must be between -180 and 180.")
        raise LayerParameterError("bbox", f"{message} {example}")
    if not (-90 <= south <= 90 and -90 <= north <= 90):
        message = _("bbox latitudes must be between -90 and 90.")
        raise LayerParameterError("bbox", f"{message} {example}")
    if west > east or south > north:
        message = _("bbox west must not exceed east, nor south exceed north.")
        raise LayerParameterError("bbox", f"{message} {example}")
    return BoundingBox(west, south, east, north)


def parse_zoom(text: str) -> int:
    """Parse a whole-number zoom level from 0 to MAX_ZOOM."""
    stripped = text.strip()
    if not re.fullmatch(r"[0-9]{1,2}", stripped) or int(stripped) > MAX_ZOOM:
        message = _("zoom must be a whole number from 0 to %(max)d, not '%(value)s'.")
        raise LayerParameterError(
            "zoom", message % {"max": MAX_ZOOM, "value": stripped[:20]}
        )
    return int(stripped)


def parse_layer_query(layer: str, params: Any) -> map_layers.LayerQuery:
    """Read bbox and zoom from the query string of a request for `layer`."""
    bbox_text = params.get("bbox", "")
    zoom_text = params.get("zoom", "")
    if not bbox_text and layer in map_layers.BBOX_REQUIRED:
        message = _(
            "bbox is required for the %(layer)s layer: send the map view as"
            " west,south,east,north in degrees."
        )
        raise LayerParameterError("bbox", message % {"layer": layer})
    return map_layers.LayerQuery(
        bbox=parse_bbox(bbox_text) if bbox_text else None,
        zoom=parse_zoom(zoom_text) if zoom_text else None,
    )


@never_cache
@layer_view
def map_layer(request: HttpRequest, layer: str) -> HttpResponse:
    """Serve one layer as GeoJSON, for the map view in `bbox` at `zoom`."""
    build = map_layers.LAYERS.get(layer)
    if build is None:
        logger.info("map layer not found", extra={"layer": layer[:40]})
        message = _("There is no map layer '%(layer)s'. Layers: %(names)s.") % {
            "layer": layer,
            "names": ", ".join(map_layers.LAYERS),
        }
        return error_response("not_found", message, 404, "layer")
    try:
        query = parse_layer_query(layer, request.GET)
    except LayerParameterError as error:
        logger.info(
            "map layer request invalid",
            extra={"layer": layer, "field": error.field},
        )
        return error_response("invalid", error.message, 400, error.field)
    return JsonResponse(build(query), content_type=GEOJSON)
