"""The public verify page and the monthly publication of the ledger's root.

The verify page checks a receipt bundle in the citizen's browser (verify.js,
with WebCrypto) when the browser verifies Ed25519, and here with
`kotacerdas.verify.verify_bundle` otherwise or without JavaScript. Both show
the same translated messages, which this module builds (`verify_texts`).

The publication page prints the latest witnessed checkpoint of a month, so
the city gazette and the city hall notice board carry a root that anyone can
compare with the root in their receipt bundle.
"""

import base64
import calendar
import hashlib
import json
import logging
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from kotacerdas.journal import bundles, witnessing
from kotacerdas.journal.keys import SigningKeyError
from kotacerdas.journal.models import Block, Cosignature, Entry
from kotacerdas.journal.services import JournalError
from kotacerdas.qr_photo import MAX_PHOTO_BYTES, PhotoInvalid, decode_photo
from kotacerdas.verify import PayloadError, Result, decode_payload, verify_bundle
from kotacerdas.verify.payload import MAX_BUNDLE_BYTES, PREFIX, entry_from_url

logger = logging.getLogger(__name__)

# The other QR code on a printed receipt: the receipt page's own address.
RECEIPT_URL = re.compile(r"^https?://[^?#\s]+/receipts/[^/?#\s]+/?(?:[?#]\S*)?$")

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
# The failure codes of kotacerdas.verify.verify_bundle: the bundle was checked
# and failed, as opposed to input the page could not read.
CHECK_CODES = frozenset(
    {"keys", "format", "origin", "checkpoint", "signature", "cosignature"}
    | {"entry", "index", "body", "proof"}
)


class InputInvalid(ValueError):
    """Input the page cannot check; `code` selects the message in verify_texts."""

    def __init__(self, code: str, **values: Any) -> None:
        super().__init__(code)
        self.code = code
        self.values = values


# Messages ------------------------------------------------------------------------


def verify_texts() -> dict[str, Any]:
    """Return every message of the verify page, for the server and for verify.js.

    Placeholders are Python's `%(name)s`, which verify.js fills the same way.
    """
    return {
        "valid": _(
            "Valid: included in the checkpoint of %(size)s entries, co-signed by "
            "%(count)s of %(total)s witnesses."
        ),
        "invalid": _("Invalid: %(reason)s"),
        "not_witnessed": _(
            "Not yet witnessed: %(count)s of the %(quorum)s cosignatures needed. "
            "Check a newer bundle of this receipt later."
        ),
        "label_event": _("Event type"),
        "label_entry": _("Ledger entry"),
        "label_time": _("Recorded at (%(zone)s)") % {"zone": settings.TIME_ZONE},
        "time_zone": settings.TIME_ZONE,
        "label_witnesses": _("Co-signed by"),
        "no_witnesses": _("no witness yet"),
        "anchor": _(
            "Anchored on chain %(chain)s in transaction %(tx)s (block %(block)s, "
            "%(state)s)."
        ),
        "anchor_final": _("final"),
        "anchor_pending": _("not yet final"),
        "anchor_unchecked_browser": _("Not checked in the browser."),
        "anchor_unchecked_server": _("Not checked on the server."),
        "no_anchor": _("No chain anchor in this bundle yet."),
        "checked_browser": _(
            "Checked in your browser with WebCrypto. The server only supplied the "
            "bundle and the public keys."
        ),
        "checked_server": _(
            "Checked on the server, because this browser cannot verify Ed25519 "
            "signatures."
        ),
        "checked_server_form": _("Checked on the server."),
        "checking": _("Checking…"),
        "reading_photo": _("Reading the QR code in the photo…"),
        "looking": _("Hold the receipt's QR code in front of the camera."),
        "no_camera": _("This browser cannot use a camera. Upload a photo instead."),
        "camera_denied": _(
            "The camera is blocked. Allow it in the browser, or upload a photo instead."
        ),
        "reasons": verify_reasons(),
    }


def verify_reasons() -> dict[str, str]:
    """Return the reason for each failure code of the page and of verify_bundle."""
    return {
        "empty": _("nothing to check. Choose a file, paste a bundle or take a photo."),
        "not_json": _(
            "the file or text is not JSON, and not a receipt code starting with KCB1:."
        ),
        "receipt_url": _(
            "this QR code holds the receipt's web address, not its proof. Scan the "
            "larger proof QR code below it, or open the address and choose "
            "Verify this receipt."
        ),
        "too_large": _(
            "the file or text is larger than %(max)s bytes, but a receipt bundle "
            "has only a few kilobytes. Choose the receipt's bundle file (.json)."
        ),
        "payload": _(
            "the receipt code (KCB1:) is damaged and cannot be decoded. Scan it again."
        ),
        "no_decompression": _(
            "this browser cannot unpack a receipt code. Upload the bundle file instead."
        ),
        "not_found": _("ledger entry %(entry)s does not exist."),
        "not_sealed": _(
            "ledger entry %(entry)s is not in a checkpoint yet. Wait a few minutes "
            "for the next checkpoint and try again."
        ),
        "bad_entry": _("the entry number %(entry)s is not a whole number."),
        "fetch_failed": _(
            "the bundle of entry %(entry)s could not be downloaded. Try again."
        ),
        "server_failed": _("the server could not check the bundle. Try again later."),
        "photo": "%(message)s",
        "photo_too_large": _("the photo is larger than %(max)s MB."),
        "keys": _("the published keys are invalid; the ledger operator must fix them."),
        "format": _("this is not a Kota Cerdas receipt bundle (kotacerdas-bundle/v1)."),
        "origin": _("the bundle comes from another ledger than %(origin)s."),
        "checkpoint": _("the checkpoint in the bundle is malformed."),
        "signature": _("the checkpoint is not signed by the city ledger's key."),
        "cosignature": _("a witness's cosignature on the checkpoint does not verify."),
        "entry": _("the bundle has no entry."),
        "index": _("the entry number does not match the entry or the checkpoint."),
        "body": _("the entry in the bundle is not valid JSON."),
        "proof": _(
            "the inclusion proof does not lead to the checkpoint's root, so the "
            "entry or the proof was changed."
        ),
        "unknown": _("the bundle could not be checked."),
    }


def reason_values() -> dict[str, Any]:
    """Return the values the reasons' placeholders take when no check supplies them."""
    return {
        "max": MAX_BUNDLE_BYTES,
        "origin": settings.KOTACERDAS_LEDGER_ORIGIN,
    }


# Keys ----------------------------------------------------------------------------


def key_fingerprint(vkey: str) -> str:
    """Return the first 128 bits of SHA-256 of a verifier key, in groups of 4 hex digits.

    `printf %s KEY | sha256sum` gives the same digits, so anyone can compare a
    key on the page with the one printed in the gazette.
    """
    digest = hashlib.sha256(vkey.encode()).hexdigest()[:32]
    return " ".join(digest[i : i + 4] for i in range(0, len(digest), 4))


def keys_context() -> dict[str, Any]:
    """Return the published keys and their fingerprints, or empty if there is no node key."""
    try:
        keys = bundles.published_keys()
    except SigningKeyError as error:
        logger.error("verify page has no published keys: %s", error)
        return {"keys": None}
    return {
        "keys": keys,
        "log_fingerprint": key_fingerprint(keys["log"]),
        "witness_keys": [
            {**witness, "fingerprint": key_fingerprint(witness["vkey"])}
            for witness in keys["witnesses"]
        ],
    }


# Checking on the server ---------------------------------------------------------


def bundle_from_text(text: str) -> dict[str, Any]:
    """Return the bundle in pasted or uploaded text; raise InputInvalid."""
    text = text.strip()
    if not text:
        raise InputInvalid("empty")
    if len(text.encode()) > MAX_BUNDLE_BYTES:
        raise InputInvalid("too_large", max=MAX_BUNDLE_BYTES)
    entry = entry_from_url(text)
    if entry is not None:
        return bundle_of_entry(entry)
    if RECEIPT_URL.match(text):
        raise InputInvalid("receipt_url")
    if text.startswith(PREFIX):
        try:
            return decode_payload(text)
        except PayloadError as error:
            logger.info("verify page got an undecodable KCB1 payload: %s", error)
            raise InputInvalid("payload") from None
    try:
        bundle = json.loads(text)
    except json.JSONDecodeError:
        raise InputInvalid("not_json") from None
    if not isinstance(bundle, dict):
        raise InputInvalid("format")
    return bundle


def bundle_of_entry(entry: int) -> dict[str, Any]:
    try:
        return bundles.build_bundle(entry)
    except bundles.BundleNotReady:
        raise InputInvalid("not_sealed", entry=entry) from None
    except JournalError:
        raise InputInvalid("not_found", entry=entry) from None


def read_upload(upload: UploadedFile) -> str:
    if upload.size is not None and upload.size > MAX_BUNDLE_BYTES:
        raise InputInvalid("too_large", max=MAX_BUNDLE_BYTES)
    try:
        return upload.read(MAX_BUNDLE_BYTES + 1).decode("utf-8")
    except UnicodeDecodeError:
        raise InputInvalid("not_json") from None


def text_in_photo(photo: UploadedFile) -> str:
    """Return the text of the QR code in a photo; raise InputInvalid."""
    try:
        return decode_photo(
            photo,
            # A receipt also carries the QR of its own page; the proof QR wins.
            prefer=lambda text: (
                text.startswith(PREFIX) or entry_from_url(text) is not None
            ),
            not_a_picture=_(
                "This file is not a picture. Choose a photo (JPEG, PNG or WebP) "
                "of the receipt's QR code."
            ),
            no_qr_code=_(
                "No QR code was found in this photo. Take it again with the whole "
                "QR code of the receipt in view."
            ),
        )
    except PhotoInvalid as error:
        logger.info("verify page could not read a photo: %s", error.reason)
        raise InputInvalid("photo", message=error.message) from None


def local_time(iso: str) -> str:
    """Return an entry's ISO 8601 UTC time in the city's zone and the reader's format."""
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    if moment.tzinfo is None:
        return iso
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def result_data(result: Result, bundle: dict[str, Any]) -> dict[str, Any]:
    """Return a successful check in the form verify.js builds for its own checks."""
    envelope = json.loads(bundle["entry"]["body"])
    return {
        "ok": True,
        "tree_size": str(result.tree_size),
        "index": result.index,
        "event_type": result.event_type,
        "at": str(envelope.get("at", "")),
        "witnesses": result.witnesses,
        "witnesses_known": result.witnesses_known,
        "quorum": result.quorum,
        "witnessed": result.witnessed,
        "anchor": result.anchor,
    }


def check_on_server(bundle: dict[str, Any]) -> dict[str, Any]:
    """Verify a bundle against the published keys; raise InputInvalid if invalid."""
    result = verify_bundle(bundle, bundles.published_keys())
    if not result.ok:
        logger.info("verify page: bundle invalid (%s): %s", result.code, result.reason)
        raise InputInvalid(result.code or "unknown")
    return result_data(result, bundle)


# The verify page -----------------------------------------------------------------


def describe_result(data: dict[str, Any], checked_by: str) -> dict[str, Any]:
    """Return the lines of a valid result panel, as verify.js renders them."""
    texts = verify_texts()
    anchor = data["anchor"]
    anchor_text = texts["no_anchor"]
    if anchor:
        anchor_text = texts["anchor"] % {
            "chain": anchor.get("chain_id"),
            "tx": anchor.get("tx"),
            "block": anchor.get("block_number"),
            "state": texts["anchor_final" if anchor.get("final") else "anchor_pending"],
        }
    return {
        "valid": True,
        "headline": texts["valid"]
        % {
            "size": data["tree_size"],
            "count": len(data["witnesses"]),
            "total": data["witnesses_known"],
        },
        "facts": [
            (texts["label_event"], data["event_type"]),
            (texts["label_entry"], data["index"]),
            (texts["label_time"], local_time(data["at"])),
            (
                texts["label_witnesses"],
                ", ".join(data["witnesses"]) or texts["no_witnesses"],
            ),
        ],
        "not_witnessed": ""
        if data["witnessed"]
        else texts["not_witnessed"]
        % {"count": len(data["witnesses"]), "quorum": data["quorum"]},
        "anchor": anchor_text,
        "anchor_unchecked": texts["anchor_unchecked_server"] if anchor else "",
        "checked_by": checked_by,
        "checked_by_text": texts["checked_server_form"],
    }


def describe_failure(failure: InputInvalid) -> dict[str, Any]:
    """Return a failure panel; only a failed check (not bad input) names its checker."""
    texts = verify_texts()
    template = texts["reasons"].get(failure.code, texts["reasons"]["unknown"])
    reason = template % {**reason_values(), **failure.values}
    checked = failure.code in CHECK_CODES
    return {
        "valid": False,
        "code": failure.code,
        "headline": texts["invalid"] % {"reason": reason},
        "checked_by": "server" if checked else "",
        "checked_by_text": texts["checked_server_form"] if checked else "",
    }


def _page(
    request: HttpRequest,
    panel: dict[str, Any] | None = None,
    entry: int | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        **keys_context(),
        "panel": panel,
        "entry": entry,
        "texts": verify_texts(),
        "max_bundle_bytes": MAX_BUNDLE_BYTES,
        "max_photo_bytes": MAX_PHOTO_BYTES,
        "max_photo_mb": MAX_PHOTO_BYTES // (1024 * 1024),
        "bundle_url_template": reverse("journal:bundle", args=[0]),
        "publication_url": reverse("journal:publication"),
    }
    return render(request, "journal/verify.html", context, status=status)


def _entry_check(raw: str) -> tuple[int | None, dict[str, Any], int]:
    """Return the entry for verify.js to check, the server's result panel and the status.

    The server checks a sealed entry too, so a browser without JavaScript
    shows the result; verify.js checks it again and replaces the panel.
    """
    if not raw.isdecimal():
        return None, describe_failure(InputInvalid("bad_entry", entry=raw)), 400
    entry = int(raw)
    if not Entry.objects.filter(seq=entry).exists():
        return None, describe_failure(InputInvalid("not_found", entry=entry)), 404
    if bundles.checkpoint_block(entry) is None:
        return None, describe_failure(InputInvalid("not_sealed", entry=entry)), 404
    try:
        panel = describe_result(check_on_server(bundle_of_entry(entry)), "server")
    except InputInvalid as failure:
        panel = describe_failure(failure)
    return entry, panel, 200


def _posted_text(request: HttpRequest) -> str:
    upload = request.FILES.get("bundle")
    if upload is not None:
        return read_upload(upload)
    photo = request.FILES.get("photo")
    if photo is not None:
        return text_in_photo(photo)
    return request.POST.get("text", "")


def _answer_json(request: HttpRequest) -> JsonResponse:
    """Return JSON for verify.js: the text of a photo's QR code, or a server-side check."""
    try:
        text = _posted_text(request)
        if request.POST.get("decode"):
            return JsonResponse({"text": text})
        return JsonResponse({"result": check_on_server(bundle_from_text(text))})
    except InputInvalid as failure:
        values = {**reason_values(), **failure.values}
        return JsonResponse({"error": {"code": failure.code, "values": values}})


@require_http_methods(["GET", "POST"])
def verify_page(request: HttpRequest) -> HttpResponse:
    """Serve the verify page; a POST checks a bundle, a pasted code or a photo here.

    verify.js posts with `Accept: application/json` and gets JSON back; a
    browser without JavaScript posts the form and gets the page with the result.
    """
    if request.method == "GET":
        raw_entry = request.GET.get("entry", "").strip()
        if not raw_entry:
            return _page(request)
        entry, panel, status = _entry_check(raw_entry)
        return _page(request, panel, entry, status=status)

    if "application/json" in request.headers.get("Accept", ""):
        return _answer_json(request)
    try:
        data = check_on_server(bundle_from_text(_posted_text(request)))
    except InputInvalid as failure:
        return _page(request, describe_failure(failure))
    return _page(request, describe_result(data, "server"))


# The monthly publication ---------------------------------------------------------


def month_bounds(raw: str) -> tuple[date, datetime, datetime]:
    """Return the first day of a YYYY-MM month and its start and end in local time.

    An empty value means the current month. Raises ValueError for anything else.
    """
    if raw:
        match = _MONTH.match(raw)
        if match is None:
            raise ValueError(raw)
        first = date(int(match.group(1)), int(match.group(2)), 1)
    else:
        first = timezone.localdate().replace(day=1)
    days = calendar.monthrange(first.year, first.month)[1]
    start = timezone.make_aware(datetime(first.year, first.month, 1))
    end = timezone.make_aware(
        datetime.combine(first + timedelta(days=days), datetime.min.time())
    )
    return first, start, end


def witnessed_block_in(start: datetime, end: datetime) -> Block | None:
    """Return the latest block sealed in [start, end) with a quorum of cosignatures."""
    return (
        Block.objects.filter(sealed_at__gte=start, sealed_at__lt=end)
        .annotate(cosigners=Count("cosignatures"))
        .filter(cosigners__gte=witnessing.quorum())
        .order_by("-height")
        .first()
    )


def grouped(text: str, size: int = 4) -> str:
    return " ".join(text[i : i + size] for i in range(0, len(text), size))


def block_context(block: Block) -> dict[str, Any]:
    root = bytes(block.root_hash)
    cosignatures = Cosignature.objects.filter(block=block).select_related("witness")
    return {
        "root_b64": grouped(base64.b64encode(root).decode()),
        "root_hex": grouped(root.hex()),
        "cosigners": [
            {
                "name": cosignature.witness.name,
                "fingerprint": key_fingerprint(cosignature.witness.vkey),
                "at": datetime.fromtimestamp(cosignature.timestamp, tz=UTC),
            }
            for cosignature in cosignatures.order_by("witness__name")
        ],
        "anchor": bundles.anchor_of(block),
    }


def _adjacent_months(first: date) -> tuple[str, str]:
    previous = (first - timedelta(days=1)).strftime("%Y-%m")
    following = (first + timedelta(days=32)).replace(day=1).strftime("%Y-%m")
    return previous, following


@require_GET
def publication(request: HttpRequest) -> HttpResponse:
    """Serve the printable page of a month's latest witnessed checkpoint."""
    raw = request.GET.get("month", "").strip()
    try:
        first, start, end = month_bounds(raw)
    except ValueError:
        error_context = {"month_error": raw}
        return render(request, "journal/publication.html", error_context, status=400)
    block = witnessed_block_in(start, end)
    previous, following = _adjacent_months(first)
    public_url = settings.KOTACERDAS_PUBLIC_URL.rstrip("/")
    context: dict[str, Any] = {
        **keys_context(),
        "month": first,
        "month_value": first.strftime("%Y-%m"),
        "previous_month": previous,
        "next_month": following,
        # Not "block": inside {% block %} tags Django binds that name itself.
        "checkpoint": block,
        "quorum": witnessing.quorum(),
        "verify_url": public_url + reverse("journal:verify"),
        "keys_url": public_url + reverse("journal:keys"),
        **(block_context(block) if block else {}),
    }
    return render(request, "journal/publication.html", context)
