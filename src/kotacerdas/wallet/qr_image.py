"""QR images of payment payloads, for a merchant's screen and printed sticker.

Both forms draw whole modules with a four-module quiet zone, the margin QR
readers need. The SVG has a viewBox and no fixed size, so a page or a print
stylesheet scales it freely. The default error correction level M recovers
about 15% of the modules, which is enough for a clean screen. A sticker that
hangs in a stall may use Q (about 25%), at the cost of denser modules.
"""

import html
import io

import zxingcpp
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

QUIET_ZONE_MODULES = 4
ERROR_CORRECTION_LEVELS = ("L", "M", "Q", "H")
DARK = 0  # zxing-cpp draws dark modules as 0 and light ones as 255


def qr_modules(payload: str, *, error_correction: str = "M") -> Image.Image:
    """Return the QR code of payload as a greyscale picture, one pixel per module.

    zxing-cpp 3.1 writes non-ASCII text as UTF-8 bytes without an ECI marker,
    so a reader has to recognise UTF-8 on its own (zxing-cpp's reader does).
    """
    if error_correction not in ERROR_CORRECTION_LEVELS:
        raise ValueError(
            f"error correction {error_correction!r} is invalid; use one of L, M, Q, H"
        )
    barcode = zxingcpp.create_barcode(
        payload, zxingcpp.BarcodeFormat.QRCode, ec_level=error_correction
    )
    return Image.fromarray(barcode.to_image(scale=1, add_quiet_zones=False))


def render_png(
    payload: str, *, pixels_per_module: int = 8, error_correction: str = "M"
) -> bytes:
    """Return payload's QR code as PNG bytes, with whole pixels per module."""
    if pixels_per_module < 1:
        raise ValueError(
            f"pixels_per_module must be 1 or more, not {pixels_per_module}"
        )
    modules = qr_modules(payload, error_correction=error_correction)
    framed = ImageOps.expand(modules, border=QUIET_ZONE_MODULES, fill=255)
    scaled = framed.resize(
        (framed.width * pixels_per_module, framed.height * pixels_per_module),
        Image.Resampling.NEAREST,
    )
    output = io.BytesIO()
    scaled.save(output, format="PNG", optimize=True)
    return output.getvalue()


def render_svg(payload: str, *, title: str = "", error_correction: str = "M") -> str:
    """Return payload's QR code as an SVG element to inline in a page.

    The dark modules of each row are drawn as runs of one-module-high
    rectangles in a single path. `title` labels the picture for screen
    readers; without it the label is a translated "QR code for payment".
    """
    modules = qr_modules(payload, error_correction=error_correction)
    width = modules.width
    pixels = modules.tobytes()
    path = [
        f"M{start + QUIET_ZONE_MODULES} {y + QUIET_ZONE_MODULES}h{length}v1h-{length}z"
        for y in range(modules.height)
        for start, length in _dark_runs(pixels[y * width : (y + 1) * width])
    ]

    size = width + 2 * QUIET_ZONE_MODULES
    label = html.escape(title or _("QR code for payment"))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'role="img" shape-rendering="crispEdges"><title>{label}</title>'
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(path)}"/></svg>'
    )


def _dark_runs(row: bytes) -> list[tuple[int, int]]:
    """Return (start, length) of each run of dark modules in a row."""
    runs = []
    x = 0
    while x < len(row):
        if row[x] != DARK:
            x += 1
            continue
        start = x
        while x < len(row) and row[x] == DARK:
            x += 1
        runs.append((start, x - start))
    return runs
