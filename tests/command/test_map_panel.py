"""The map panel template that the dashboard, the wall and the map page include."""

import re

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from kotacerdas.command import map_layers
from kotacerdas.command.views_map import map_context

pytestmark = pytest.mark.django_db


def _attribute(html: str, name: str) -> str:
    match = re.search(rf'{name}="([^"]*)"', html)
    assert match, name
    return match.group(1)


def test_panel_alone_fits_to_boundaries(city):
    html = render_to_string("command/_map.html", {})

    assert 'id="command-map"' in html
    assert _attribute(html, "data-wall") == ""
    assert _attribute(html, "data-center") == ""
    assert _attribute(html, "data-tile-url") == ""
    for layer in map_layers.LAYERS:
        url = reverse("command:map_layer", args=[layer])
        assert _attribute(html, f"data-url-{layer}") == url


def test_panel_wall_mode_and_figure(city):
    html = render_to_string(
        "command/_map.html", {"map_wall": True, "map_figure": "arrears"}
    )

    assert _attribute(html, "data-wall") == "1"
    assert _attribute(html, "data-figure") == "arrears"
    assert "command-map-wall" in html


def test_map_context_gives_centre_and_tiles(city, settings):
    settings.KOTACERDAS_MAP_TILE_URL = "http://127.0.0.1:8080/tiles/{z}/{x}/{y}.png"
    settings.KOTACERDAS_MAP_TILE_ATTRIBUTION = "Peta kota"

    html = render_to_string("command/_map.html", map_context())

    lat, lng = (float(n) for n in _attribute(html, "data-center").split(","))
    assert -1 < lat < 0
    assert 100 < lng < 101
    assert _attribute(html, "data-zoom").isdigit()
    assert _attribute(html, "data-tile-url") == settings.KOTACERDAS_MAP_TILE_URL
    assert _attribute(html, "data-tile-attribution") == "Peta kota"


def test_map_page_shows_panel_full_size(signed_in):
    with translation.override("en"):
        response = signed_in("command_center").get(
            reverse("command:map"), HTTP_ACCEPT_LANGUAGE="en"
        )

    assert response.status_code == 200
    html = response.content.decode()
    assert _attribute(html, "data-full-page") == "1"
    assert "command-map-full" in html
    assert html.count('id="command-map"') == 1
