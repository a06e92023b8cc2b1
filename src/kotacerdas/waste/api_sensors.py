"""Sensor readings over HTTP: POST /api/waste/sensors/readings.

For sensors and gateways that cannot speak MQTT. The caller is a service user
with `waste.send_sensor_data` (no human role has it) and sends its API token
as a bearer token. The body is one reading, a JSON array of readings, or
{"readings": [...]}; each reading is an object with `sensorId` and the
fields `sensors_payload` describes. Every reading gets its own result, so one
bad reading in a batch does not stop the others.
"""

import json
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from kotacerdas.accounts.api_auth import API_AUTH
from kotacerdas.waste import sensors
from kotacerdas.waste.models import SensorReading
from kotacerdas.waste.sensors_payload import SensorPayloadError

router = Router(auth=API_AUTH)

SEND = "waste.send_sensor_data"
MAX_READINGS = 500
# A batch body may be this large: MAX_READINGS readings of about 200 bytes.
MAX_BODY_BYTES = 256 * 1024

READING_SCHEMA = {
    "type": "object",
    "required": ["sensorId", "fillingLevel", "dateObserved"],
    "properties": {
        "sensorId": {"type": "string", "maxLength": 60},
        "fillingLevel": {"type": "number", "minimum": 0, "maximum": 1},
        "temperature": {"type": "number", "description": "°C, -55 to 125"},
        "batteryLevel": {
            "type": "number",
            "description": "0-1, or -1 when the device cannot tell",
        },
        "status": {
            "type": "string",
            "enum": ["ok", "lidOpen", "dropped", "moved", "vandalized", "burning"],
        },
        "dateObserved": {"type": "string", "format": "date-time"},
    },
}
REQUEST_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "oneOf": [
                    READING_SCHEMA,
                    {"type": "array", "items": READING_SCHEMA},
                    {
                        "type": "object",
                        "properties": {
                            "readings": {"type": "array", "items": READING_SCHEMA}
                        },
                    },
                ]
            }
        }
    },
}


class ErrorDetail(Schema):
    code: str
    message: str
    field: str | None = None


class ReadingResult(Schema):
    index: int
    sensor_id: str
    outcome: str
    container_id: int | None
    reading_id: int | None
    alert: str | None
    error: ErrorDetail | None


class ReadingsOut(Schema):
    stored: int
    duplicates: int
    rejected: int
    results: list[ReadingResult]
    error: ErrorDetail | None = None


class ErrorOut(Schema):
    error: ErrorDetail


def _error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    # Imported here because config.api imports this module to mount the router.
    from kotacerdas.config.api import error_body

    return error_body(code, message, field)


@router.post(
    "/sensors/readings",
    response={
        200: ReadingsOut,
        403: ErrorOut,
        413: ErrorOut,
        422: ReadingsOut | ErrorOut,
    },
    openapi_extra={"requestBody": REQUEST_BODY},
    summary="Send container fill-level readings",
)
def post_readings(request: HttpRequest) -> Status[Any]:
    """Store readings; 200 when at least one is stored or known, else 422."""
    if not request.user.has_perm(SEND):
        message = _(
            "Your account does not allow this (it needs the %(permission)s permission)."
        ) % {"permission": SEND}
        return Status(403, _error_body("forbidden", message))
    if len(request.body) > MAX_BODY_BYTES:
        message = _("The body has %(size)s bytes; send at most %(limit)s.") % {
            "size": len(request.body),
            "limit": MAX_BODY_BYTES,
        }
        return Status(413, _error_body("too_large", message))
    try:
        readings = _readings(request.body)
    except SensorPayloadError as error:
        sensors.reject(SensorReading.Source.HTTP, error)
        return Status(422, _error_body(error.code, error.message, error.field))

    actor = f"user:{request.user.pk}"
    results = [
        _result(index, _ingest_one(reading, actor))
        for index, reading in enumerate(readings)
    ]
    return _response(results)


def _readings(body: bytes) -> list[Any]:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise SensorPayloadError(
            "not_json", _("The body is not valid UTF-8 JSON.")
        ) from None
    if isinstance(payload, dict) and "readings" in payload:
        payload = payload["readings"]
        if not isinstance(payload, list):
            raise SensorPayloadError(
                "not_array", _("readings must be a JSON array."), "readings"
            )
    readings = payload if isinstance(payload, list) else [payload]
    if not readings:
        raise SensorPayloadError("empty", _("The body holds no readings."))
    if len(readings) > MAX_READINGS:
        raise SensorPayloadError(
            "too_many",
            _("The body holds %(count)s readings; send at most %(limit)s at once.")
            % {"count": len(readings), "limit": MAX_READINGS},
        )
    return readings


def _ingest_one(reading: Any, actor: str) -> sensors.IngestResult:
    source = SensorReading.Source.HTTP
    if not isinstance(reading, dict):
        error = SensorPayloadError(
            "not_object", _("Each reading must be a JSON object with a sensorId.")
        )
        return sensors.reject(source, error)
    return sensors.ingest(reading.get("sensorId"), reading, source, actor=actor)


def _result(index: int, result: sensors.IngestResult) -> dict[str, Any]:
    error = None
    if result.code:
        error = {"code": result.code, "message": result.message, "field": result.field}
    return {
        "index": index,
        "sensor_id": result.sensor_id,
        "outcome": result.outcome,
        "container_id": result.container_id,
        "reading_id": result.reading_id,
        "alert": result.alert,
        "error": error,
    }


def _response(results: list[dict[str, Any]]) -> Status[Any]:
    counts = {
        outcome: sum(1 for r in results if r["outcome"] == outcome)
        for outcome in (
            sensors.Outcome.STORED,
            sensors.Outcome.DUPLICATE,
            sensors.Outcome.REJECTED,
        )
    }
    body: dict[str, Any] = {
        "stored": counts[sensors.Outcome.STORED],
        "duplicates": counts[sensors.Outcome.DUPLICATE],
        "rejected": counts[sensors.Outcome.REJECTED],
        "results": results,
    }
    if body["rejected"] < len(results):
        return Status(200, body)
    body["error"] = results[0]["error"]
    return Status(422, body)
