"""Public downloads: the receipt bundle of an entry, and the published keys."""

import json
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from kotacerdas.journal import bundles
from kotacerdas.journal.services import JournalError


def _json_download(data: dict[str, Any], filename: str) -> HttpResponse:
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False) + "\n",
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def entry_bundle(request: HttpRequest, seq: int) -> HttpResponse:
    try:
        bundle = bundles.build_bundle(seq)
    except bundles.BundleNotReady:
        message = _(
            "Entry %(seq)s is not in a checkpoint yet. "
            "Wait for the next checkpoint and try again."
        ) % {"seq": seq}
        return JsonResponse(
            {"error": {"code": "not_sealed", "message": message}}, status=404
        )
    except JournalError:
        message = _("Entry %(seq)s does not exist.") % {"seq": seq}
        return JsonResponse(
            {"error": {"code": "not_found", "message": message}}, status=404
        )
    response = _json_download(bundle, f"receipt-{seq}.json")
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def published_keys(request: HttpRequest) -> HttpResponse:
    return _json_download(bundles.published_keys(), "keys.json")
