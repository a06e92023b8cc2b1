"""The scan page in chromium: photo upload, and the camera with the offline check.

The camera tests give chromium a fake camera that plays a Y4M video of the
QR code, so the whole path runs. That is getUserMedia, the frame decoder
(jsQR, because Chromium on Linux has no BarcodeDetector), the WebCrypto
Ed25519 check and the request for the result.
"""

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import segno
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.test import Client
from PIL import Image
from playwright.sync_api import Page, expect, sync_playwright

from kotacerdas.registry.plates import _b64url, public_keys_json, signed_message
from kotacerdas.registry.services import (
    BuildingInput,
    current_plate,
    register_building,
)

from .conftest import CHROMIUM_ARGS, CHROMIUM_PATH

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADDRESS = "Jl. Sutan Syahrir No. 12"
FORGED = "This QR code is not signed by the city: the plate may be forged. Report it."
GENUINE_OFFLINE = "Signature checked on this phone: genuine plate of the city."
FRAME_SIZE = (640, 480)


@pytest.fixture
def building(personas):
    return register_building(
        BuildingInput(
            kelurahan_code="13.74.02.1002",
            rw="2",
            rt="3",
            street_address=ADDRESS,
            use="house",
            pln_va=1300,
        )
    )


def genuine_text(building) -> str:
    plate = current_plate(building)
    assert plate is not None
    return f"http://testserver/p/{plate.code}?k={plate.key_id}&s={plate.signature}"


def forged_text(building) -> str:
    """The building's real code with a signature by a key that is not the city's."""
    kid = next(iter(public_keys_json()))
    signature = _b64url(
        Ed25519PrivateKey.generate().sign(signed_message(kid, building.plate_code))
    )
    return f"http://testserver/p/{building.plate_code}?k={kid}&s={signature}"


def qr_picture(text: str) -> Image.Image:
    buffer = io.BytesIO()
    segno.make_qr(text, error="h").save(buffer, kind="png", scale=5, border=4)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def write_png(path: Path, text: str) -> Path:
    qr_picture(text).save(path, format="PNG")
    return path


def write_y4m(path: Path, text: str, frames: int = 10) -> Path:
    """Write a 4:2:0 Y4M video that shows the QR code on a white frame."""
    frame = Image.new("RGB", FRAME_SIZE, "white")
    code = qr_picture(text)
    frame.paste(
        code,
        ((FRAME_SIZE[0] - code.width) // 2, (FRAME_SIZE[1] - code.height) // 2),
    )
    luma, blue, red = frame.convert("YCbCr").split()
    half = (FRAME_SIZE[0] // 2, FRAME_SIZE[1] // 2)
    planes = luma.tobytes() + blue.resize(half).tobytes() + red.resize(half).tobytes()
    with path.open("wb") as video:
        video.write(
            f"YUV4MPEG2 W{FRAME_SIZE[0]} H{FRAME_SIZE[1]} F10:1 Ip A1:1 C420jpeg\n".encode()
        )
        for _ in range(frames):
            video.write(b"FRAME\n" + planes)
    return path


def sign_in(page: Page, base_url: str, user) -> None:
    """Give the browser the session of a signed-in user and English screens."""
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [
            {"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base_url},
            {"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": base_url},
        ]
    )


@pytest.fixture
def camera_page(camera_video: Path, monkeypatch) -> Iterator[Page]:
    """Yield a chromium page whose camera plays the `camera_video` file."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM_PATH,
            args=[
                *CHROMIUM_ARGS,
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={camera_video}",
            ],
        )
        context = browser.new_context(locale="id-ID")
        context.set_default_timeout(15_000)
        page = context.new_page()
        try:
            yield page
        finally:
            context.close()
            browser.close()


def test_collector_uploads_plate_photo(
    live_server, browser_page, personas, building, tmp_path
):
    page = browser_page
    photo = write_png(tmp_path / "plate.png", genuine_text(building))
    sign_in(page, live_server.url, personas["collector"])

    page.goto(f"{live_server.url}/scan/")
    page.set_input_files("#photo", str(photo))
    page.get_by_role("button", name="Check the photo").click()

    expect(page.get_by_test_id("building-address")).to_have_text(ADDRESS)
    expect(page.get_by_test_id("scan-message")).to_have_text(
        "Genuine plate, signed by the city."
    )
    expect(page.get_by_test_id("scan-code")).to_have_text(building.plate_code)


def test_forged_photo_shows_forged_message(
    live_server, browser_page, personas, building, tmp_path
):
    page = browser_page
    photo = write_png(tmp_path / "forged.png", forged_text(building))
    sign_in(page, live_server.url, personas["collector"])

    page.goto(f"{live_server.url}/scan/")
    page.set_input_files("#photo", str(photo))
    page.get_by_role("button", name="Check the photo").click()

    expect(page.get_by_test_id("scan-message")).to_have_text(FORGED)
    expect(page.get_by_test_id("building-address")).to_have_count(0)


def test_typed_code_finds_building(live_server, browser_page, personas, building):
    page = browser_page
    sign_in(page, live_server.url, personas["collector"])

    page.goto(f"{live_server.url}/scan/")
    page.get_by_label("Plate code, as printed under the QR code").fill(
        building.plate_code.lower().replace("-", " ")
    )
    page.get_by_role("button", name="Look up").click()

    expect(page.get_by_test_id("building-address")).to_have_text(ADDRESS)


@pytest.fixture
def camera_video(request, tmp_path, building) -> Path:
    """Write the camera's video of the genuine or forged (`request.param`) QR code."""
    text = (
        forged_text(building) if request.param == "forged" else genuine_text(building)
    )
    return write_y4m(tmp_path / "camera.y4m", text)


@pytest.mark.parametrize("camera_video", ["genuine"], indirect=True)
def test_camera_reads_genuine_plate(live_server, camera_page, personas, building):
    page = camera_page
    sign_in(page, live_server.url, personas["collector"])

    page.goto(f"{live_server.url}/scan/")
    page.get_by_role("button", name="Scan with the camera").click()

    expect(page.get_by_test_id("offline-check")).to_have_text(GENUINE_OFFLINE)
    expect(page.get_by_test_id("building-address")).to_have_text(ADDRESS)
    expect(page.locator("#camera")).to_have_attribute("data-decoder", "jsqr")


@pytest.mark.parametrize("camera_video", ["forged"], indirect=True)
def test_camera_flags_forgery_without_network(
    live_server, camera_page, personas, building
):
    page = camera_page
    sign_in(page, live_server.url, personas["collector"])
    page.goto(f"{live_server.url}/scan/")
    # From here on the phone has no connection to the server.
    page.route("**/scan/resolve", lambda route: route.abort("internetdisconnected"))

    page.get_by_role("button", name="Scan with the camera").click()

    expect(page.get_by_test_id("offline-check")).to_have_text(FORGED)
    expect(page.get_by_test_id("offline-check")).to_have_attribute(
        "data-verdict", "forged"
    )
    expect(page.get_by_test_id("camera-status")).to_contain_text(
        "No connection to the server."
    )
    expect(page.get_by_test_id("building-address")).to_have_count(0)
