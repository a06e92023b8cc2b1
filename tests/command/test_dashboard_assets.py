"""The dashboard's front-end files: vendored Chart.js as recorded, no CDN."""

import hashlib
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse

STATIC = Path(settings.PACKAGE_DIR) / "static" / "kotacerdas"
CHARTJS = ("chart.umd.js", "chart.umd.js.map", "LICENSE.md")


def recorded_hashes() -> dict[str, str]:
    text = (STATIC / "SOURCES.md").read_text(encoding="utf-8")
    return {
        path: digest
        for digest, path in re.findall(r"^([0-9a-f]{64})  (\S+)$", text, re.M)
    }


@pytest.mark.parametrize("name", CHARTJS)
def test_chartjs_matches_sources(name):
    path = STATIC / "vendor" / "chartjs" / name
    digest = hashlib.sha256(path.read_bytes()).hexdigest()

    assert recorded_hashes()[f"vendor/chartjs/{name}"] == digest


def test_chartjs_version_recorded():
    head = (STATIC / "vendor" / "chartjs" / "chart.umd.js").read_text()[:200]
    sources = (STATIC / "SOURCES.md").read_text(encoding="utf-8")

    version = re.search(r"Chart\.js v(\d+\.\d+\.\d+)", head)
    assert version is not None
    assert f"npm `chart.js` {version.group(1)}" in sources


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", ["command:dashboard", "command:wall"])
def test_pages_load_scripts_from_static(signed_in, url_name):
    html = signed_in("command_center").get(reverse(url_name)).content.decode()

    scripts = re.findall(r'<script[^>]* src="([^"]+)"', html)
    assert static("kotacerdas/vendor/chartjs/chart.umd.js") in scripts
    for src in scripts:
        assert not src.startswith(("http:", "https:", "//")), src
