"""The SNAP endpoints a partner bank calls: access token, VA inquiry, VA payment.

They respond in SNAP's own format (responseCode, responseMessage, ...), not the
city API's, because the bank's software reads that format. Every request is
recorded in SnapRequest, with personal fields of its body redacted.
"""

import logging
import time
from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from kotacerdas.snap import codes, payloads, services, transfer_va
from kotacerdas.snap.authentication import (
    Caller,
    authenticate_token_request,
    authenticate_transaction,
)
from kotacerdas.snap.codes import Service, SnapError
from kotacerdas.snap.models import SnapRequest, SnapService

logger = logging.getLogger(__name__)

LOGGED_HEADERS = (
    "Content-Type",
    "X-TIMESTAMP",
    "X-CLIENT-KEY",
    "X-PARTNER-ID",
    "X-EXTERNAL-ID",
    "CHANNEL-ID",
    "X-SIGNATURE",
    "ORIGIN",
)
HEADER_MAX_LOGGED = 1024
MESSAGE_MAX = 150

Handler = Callable[[HttpRequest, SnapRequest], dict[str, Any]]


def _logged_headers(request: HttpRequest) -> dict[str, str]:
    return {
        name: request.headers[name][:HEADER_MAX_LOGGED]
        for name in LOGGED_HEADERS
        if name in request.headers
    }


def _read_body(request: HttpRequest, log: SnapRequest) -> dict[str, Any]:
    body = payloads.parse_json_object(request.body)
    log.body = payloads.redact(body)
    if isinstance(body.get("customerNo"), str):
        log.customer_no = body["customerNo"][:20]
    for field in ("paymentRequestId", "inquiryRequestId"):
        if isinstance(body.get(field), str):
            log.request_id = body[field][:128]
            break
    return body


def _claim_external_id(log: SnapRequest, caller: Caller) -> None:
    """Store the request with its X-EXTERNAL-ID, which must be new today."""
    log.partner = caller.partner
    log.external_id = caller.external_id
    log.external_id_day = timezone.localdate()
    try:
        with transaction.atomic():
            log.save()
    except IntegrityError:
        log.pk = None
        log._state.adding = True
        log.external_id_day = None
        raise codes.duplicate_external_id() from None


def _access_token(request: HttpRequest, log: SnapRequest) -> dict[str, Any]:
    partner = authenticate_token_request(request)
    log.partner = partner
    body = _read_body(request, log)
    grant_type = body.get("grantType")
    if grant_type in (None, ""):
        raise codes.missing_field("grantType")
    if grant_type != "client_credentials":
        raise codes.invalid_format("grantType")
    return {
        "accessToken": services.issue_access_token(partner),
        "tokenType": "Bearer",
        "expiresIn": str(services.TOKEN_LIFETIME_S),
        "additionalInfo": {},
    }


def _va_inquiry(request: HttpRequest, log: SnapRequest) -> dict[str, Any]:
    caller = authenticate_transaction(request)
    _claim_external_id(log, caller)
    return transfer_va.inquire(caller.partner, _read_body(request, log))


def _va_payment(request: HttpRequest, log: SnapRequest) -> dict[str, Any]:
    caller = authenticate_transaction(request)
    _claim_external_id(log, caller)
    return transfer_va.pay(caller.partner, _read_body(request, log), log)


def _outcome(
    request: HttpRequest, handler: Handler, log: SnapRequest
) -> tuple[int, int, str, dict[str, Any]]:
    try:
        if request.method != "POST":
            raise codes.not_supported()
        return 200, 0, "Successful", handler(request, log)
    except SnapError as error:
        failure = error
    except RequestDataTooBig:
        failure = codes.bad_request()
    except Exception:
        # The bank needs a SNAP response even when this server fails, so that
        # it retries instead of guessing. The error itself goes to the log.
        logger.exception("SNAP %s request failed", log.service)
        failure = codes.general_error()
    return failure.http_status, failure.case, failure.message, failure.data


def _serve(
    request: HttpRequest, service: Service, kind: str, handler: Handler
) -> JsonResponse:
    started = time.monotonic()
    log = SnapRequest(
        service=kind, received_at=timezone.now(), headers=_logged_headers(request)
    )
    http_status, case, message, content = _outcome(request, handler, log)
    code = codes.response_code(http_status, service, case)
    body = {"responseCode": code, "responseMessage": message[:MESSAGE_MAX], **content}

    log.http_status = http_status
    log.response_code = code
    log.response_message = message[:MESSAGE_MAX]
    log.transfer_reference = content.get("additionalInfo", {}).get(
        "transferReference", ""
    )
    log.duration_ms = round((time.monotonic() - started) * 1000)
    if http_status != 200:
        logger.info(
            "SNAP %s rejected with %s (partner %s)",
            kind,
            code,
            log.partner.partner_id if log.partner else "unknown",
        )
    try:
        log.save()
    except DatabaseError:
        logger.exception("SNAP %s request could not be recorded", kind)

    headers = {"X-TIMESTAMP": timezone.localtime().isoformat(timespec="seconds")}
    if service == Service.ACCESS_TOKEN and "X-CLIENT-KEY" in request.headers:
        headers["X-CLIENT-KEY"] = request.headers["X-CLIENT-KEY"]
    return JsonResponse(body, status=http_status, headers=headers)


@csrf_exempt
def access_token(request: HttpRequest) -> JsonResponse:
    return _serve(
        request, Service.ACCESS_TOKEN, SnapService.ACCESS_TOKEN, _access_token
    )


@csrf_exempt
def va_inquiry(request: HttpRequest) -> JsonResponse:
    return _serve(request, Service.VA_INQUIRY, SnapService.VA_INQUIRY, _va_inquiry)


@csrf_exempt
def va_payment(request: HttpRequest) -> JsonResponse:
    return _serve(request, Service.VA_PAYMENT, SnapService.VA_PAYMENT, _va_payment)
