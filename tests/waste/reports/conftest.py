"""Fixtures for citizen report tests: a point in Pasar Usang and photos."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import Image

from kotacerdas.waste.reports.services import ReportInput

# A point inside Kelurahan Pasar Usang (13.74.02.1002).
PASAR_USANG_POINT = ("-0.459800", "100.398352")


@pytest.fixture(autouse=True)
def _english(settings):
    """Check messages against their English msgids (Indonesian is the default)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def png_photo(
    name: str = "dump.png", size: tuple[int, int] = (40, 30)
) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (120, 90, 40)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def report_input(**changes) -> ReportInput:
    values = {
        "kind": "illegal_dumping",
        "description": "Bags of waste thrown by the river bank.",
        "lat": PASAR_USANG_POINT[0],
        "lng": PASAR_USANG_POINT[1],
    }
    values.update(changes)
    return ReportInput(**values)
