"""Reading the QR code in an uploaded photo, for every page that accepts one.

The plate scan page, the wallet's pay-by-QR page and the receipt verify page
take a photo or screenshot of a QR code. The image is read by Pillow (only the
listed formats, with its decompression-bomb guard) and decoded by zxing-cpp.
The pages differ in which code they take when a photo catches several and in
how they tell the user what went wrong, so they pass those in.
"""

import warnings
from collections.abc import Callable

import zxingcpp
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

# An estimate of a full-resolution JPEG from a 50-megapixel phone camera.
MAX_PHOTO_BYTES = 15 * 1024 * 1024
MAX_PHOTO_PIXELS = 60_000_000
PHOTO_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP")
QR_FORMATS = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


class PhotoInvalid(ValueError):
    """An uploaded photo is too large, not a picture, or shows no QR code.

    `reason` is a constant for the log; the message is for the user.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def decode_photo(
    photo: UploadedFile,
    *,
    prefer: Callable[[str], bool],
    not_a_picture: str,
    no_qr_code: str,
    max_bytes: int = MAX_PHOTO_BYTES,
    max_pixels: int = MAX_PHOTO_PIXELS,
) -> str:
    """Return the text of the QR code in a photo; raise PhotoInvalid.

    A photo may catch a second QR code (a poster, a neighbour's plate), so the
    first text that `prefer` accepts is returned, else the first one read.
    `not_a_picture` and `no_qr_code` are the page's messages for those cases.
    """
    if photo.size is not None and photo.size > max_bytes:
        raise PhotoInvalid(
            "too large",
            _(
                "The photo is larger than %(max)s MB. Take it again at a lower resolution, or crop it to the QR code."
            )
            % {"max": max_bytes // (1024 * 1024)},
        )
    image = _open_image(photo, not_a_picture, max_pixels)

    results = zxingcpp.read_barcodes(image, formats=QR_FORMATS)
    texts = [result.text for result in results if result.text]
    if not texts:
        raise PhotoInvalid("no QR code", no_qr_code)
    return next((text for text in texts if prefer(text)), texts[0])


def _open_image(
    photo: UploadedFile, not_a_picture_message: str, max_pixels: int
) -> Image.Image:
    too_many_pixels = PhotoInvalid(
        "too many pixels",
        _(
            "The photo has more than %(max)s megapixels. Take it again at a lower resolution."
        )
        % {"max": max_pixels // 1_000_000},
    )
    not_a_picture = PhotoInvalid("not a picture", not_a_picture_message)
    try:
        with warnings.catch_warnings():
            # Pillow warns above its MAX_IMAGE_PIXELS (about 89 million) and
            # raises above twice that. Either ends the upload here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(photo, formats=PHOTO_FORMATS)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise too_many_pixels from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise not_a_picture from None
    if image.width * image.height > max_pixels:
        raise too_many_pixels

    try:
        image.load()
    except (OSError, SyntaxError, ValueError):
        raise not_a_picture from None
    return image.convert("L")
