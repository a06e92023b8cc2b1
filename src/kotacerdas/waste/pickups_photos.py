"""Checking a pickup's optional photo before it is stored under MEDIA_ROOT."""

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

# A phone photo re-encoded by the page is well under this; an original
# 12-megapixel JPEG is about 4 MB.
MAX_PHOTO_BYTES = 8 * 1024 * 1024
MAX_PHOTO_PIXELS = 40_000_000
PHOTO_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


class PhotoRejected(ValueError):
    """The uploaded photo is too large or not a JPEG, PNG or WebP picture."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def check_photo(photo: UploadedFile) -> str:
    """Check size, format and pixel count, and return the file extension to store.

    Raises PhotoRejected with a message that tells the collector what to do.
    """
    if photo.size is not None and photo.size > MAX_PHOTO_BYTES:
        raise PhotoRejected(
            _(
                "The photo is larger than %(max)s MB. Take it again at a lower "
                "resolution."
            )
            % {"max": MAX_PHOTO_BYTES // (1024 * 1024)}
        )
    try:
        photo.seek(0)
        with Image.open(photo) as image:
            kind = image.format or ""
            width, height = image.size
            image.verify()
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        OSError,
        SyntaxError,
        ValueError,
    ):
        raise PhotoRejected(
            _("The photo is not a picture. Send a JPEG, PNG or WebP photo.")
        ) from None
    finally:
        photo.seek(0)
    if kind not in PHOTO_FORMATS:
        raise PhotoRejected(
            _(
                "Photos of type %(kind)s are not accepted. Send a JPEG, PNG or WebP photo."
            )
            % {"kind": kind or "?"}
        )
    if width * height > MAX_PHOTO_PIXELS:
        raise PhotoRejected(
            _(
                "The photo has more than %(max)s megapixels. Take it at a lower resolution."
            )
            % {"max": MAX_PHOTO_PIXELS // 1_000_000}
        )
    return PHOTO_FORMATS[kind]
