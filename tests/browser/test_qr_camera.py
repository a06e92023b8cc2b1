"""The shared camera reader (qr-camera.js) on the pay-by-QR and verify pages.

The plate scan page's camera runs in test_scan.py. Here chromium's fake
camera plays a Y4M video of a merchant's payment code or of a receipt's KCB1
code. Each page's path runs from getUserMedia through jsQR (Chromium on Linux
has no BarcodeDetector) to what the page does with the text.
"""

import io
from pathlib import Path

import pytest
import segno
from PIL import Image
from playwright.sync_api import expect

from kotacerdas.journal import bundles
from kotacerdas.verify import encode_payload
from kotacerdas.wallet import flows, services

from . import test_scan
from .test_verify_page import VALID_EN, use_english, witnessed_block
from .test_wallet_pages import BUSINESS, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MIN_FRAME_SIZE = (640, 480)
FRAME_MARGIN_PX = 64


def code_frame(text: str) -> Image.Image:
    """Return a white camera frame with the QR code of `text` in the middle."""
    buffer = io.BytesIO()
    segno.make_qr(text, error="m").save(buffer, kind="png", scale=4, border=4)
    code = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    # 4:2:0 halves both sides for the chroma planes, so the sides stay even.
    width = max(MIN_FRAME_SIZE[0], code.width + FRAME_MARGIN_PX) // 16 * 16 + 16
    height = max(MIN_FRAME_SIZE[1], code.height + FRAME_MARGIN_PX) // 16 * 16 + 16
    frame = Image.new("RGB", (width, height), "white")
    frame.paste(code, ((width - code.width) // 2, (height - code.height) // 2))
    return frame


def write_y4m(path: Path, frame: Image.Image, frames: int = 10) -> Path:
    """Write a 4:2:0 Y4M video that shows `frame` again and again."""
    width, height = frame.size
    luma, blue, red = frame.convert("YCbCr").split()
    half = (width // 2, height // 2)
    planes = luma.tobytes() + blue.resize(half).tobytes() + red.resize(half).tobytes()
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            video.write(b"FRAME\n" + planes)
    return path


# The fake-camera chromium of the plate scan tests, which plays `camera_video`.
camera_page = test_scan.camera_page


@pytest.fixture
def camera_video(request, tmp_path) -> Path:
    """Write the camera's video of a merchant's code, a receipt's code or nothing.

    `request.param` names which. The merchant or the witnessed ledger entries
    are made here, because chromium needs the video when it starts. Only the
    merchant's video asks for the personas, whose roles would add ledger
    entries to the receipt's checkpoint.
    """
    if request.param == "merchant":
        personas = request.getfixturevalue("personas")
        merchant = services.open_merchant(personas["merchant"], BUSINESS)
        frame = code_frame(flows.merchant_payload(merchant))
    elif request.param == "receipt":
        witnessed_block(4)
        frame = code_frame(encode_payload(bundles.build_bundle(1)))
    else:
        witnessed_block(2)
        frame = Image.new("RGB", MIN_FRAME_SIZE, "white")
    return write_y4m(tmp_path / "camera.y4m", frame)


@pytest.mark.parametrize("camera_video", ["merchant"], indirect=True)
def test_camera_opens_merchant_payment(live_server, camera_page, personas):
    page = camera_page
    sign_in(page, live_server.url, personas["citizen"])
    page.goto(f"{live_server.url}/wallet/pay/")

    page.get_by_role("button", name="Scan with the camera").click()

    expect(page.get_by_test_id("merchant-name")).to_have_text(BUSINESS)
    assert "/wallet/pay/confirm/?qr=000201" in page.url


@pytest.mark.parametrize("camera_video", ["receipt"], indirect=True)
def test_camera_verifies_receipt_code(live_server, camera_page):
    page = camera_page
    use_english(page, live_server.url)
    page.goto(f"{live_server.url}/verify/")

    page.get_by_role("button", name="Scan with the camera").click()

    expect(page.get_by_test_id("verify-headline")).to_have_text(VALID_EN)
    expect(page.locator("#camera")).to_have_attribute("data-decoder", "jsqr")
    expect(page.locator("#camera-video")).to_be_hidden()
    expect(page.get_by_role("button", name="Scan with the camera")).to_be_visible()


# A frame with no QR code keeps the camera looking until it is stopped.
@pytest.mark.parametrize("camera_video", ["blank"], indirect=True)
def test_stop_button_closes_camera(live_server, camera_page):
    page = camera_page
    use_english(page, live_server.url)
    page.goto(f"{live_server.url}/verify/")
    page.get_by_role("button", name="Scan with the camera").click()
    expect(page.get_by_test_id("verify-status")).to_have_text(
        "Hold the receipt's QR code in front of the camera."
    )

    page.get_by_role("button", name="Stop the camera").click()

    expect(page.get_by_test_id("verify-status")).to_have_text("")
    expect(page.locator("#camera-video")).to_be_hidden()
    expect(page.get_by_role("button", name="Scan with the camera")).to_be_visible()
    live_tracks = page.evaluate(
        "() => { const s = document.getElementById('camera-video').srcObject;"
        " return s ? s.getTracks().filter(t => t.readyState === 'live').length"
        " : 0; }"
    )
    assert live_tracks == 0
