"""SNAP response codes and the error that carries one.

A response code is seven digits: the HTTP status (3), the service code (2)
and the case code (2), so `4012500` is HTTP 401, service 25 (VA payment),
case 00. The messages are the English texts of the standard's response
code table. Banks match on the code and show the customer
`paymentFlagReason`, which the services fill in English and Indonesian.
"""

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any


class Service(IntEnum):
    """SNAP service codes of the endpoints this app serves."""

    VA_INQUIRY = 24
    VA_PAYMENT = 25
    ACCESS_TOKEN = 73


def response_code(http_status: int, service: Service, case: int) -> str:
    return f"{http_status:03d}{int(service):02d}{case:02d}"


@dataclass
class SnapError(Exception):
    """A request rejected with a SNAP response code.

    `data` is extra top-level response content, such as the
    `virtualAccountData` of a business rejection.
    """

    http_status: int
    case: int
    message: str
    data: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.http_status}xx{self.case:02d} {self.message}"


def bad_request() -> SnapError:
    return SnapError(400, 0, "Bad Request")


def invalid_format(field_name: str) -> SnapError:
    return SnapError(400, 1, f"Invalid Field Format {field_name}")


def missing_field(field_name: str) -> SnapError:
    return SnapError(400, 2, f"Invalid Mandatory Field {field_name}")


def unauthorized(reason: str) -> SnapError:
    return SnapError(401, 0, f"Unauthorized. {reason}")


def invalid_token() -> SnapError:
    return SnapError(401, 1, "Invalid Token (B2B)")


def not_supported() -> SnapError:
    return SnapError(405, 0, "Requested Function Is Not Supported")


def duplicate_external_id() -> SnapError:
    return SnapError(409, 0, "Conflict")


def general_error() -> SnapError:
    return SnapError(500, 0, "General Error")


# Business cases of the virtual-account services (HTTP 404).
INVALID_VA = 11
BLOCKED_VA = 12
INVALID_AMOUNT = 13
INCONSISTENT_REQUEST = 18
