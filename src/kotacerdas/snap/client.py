"""The bank's side of SNAP: requests signed the way a partner bank signs them.

`kotacerdas bank-sim` and the tests use it to call the city's endpoints. The
profile is what a bank knows after registering with the city: its ids, the
signature mode and encoding, and, in HMAC mode, the client secret.
"""

import json
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings

from kotacerdas.snap import signatures

TOKEN_PATH = "/v1.0/access-token/b2b"  # noqa: S105  (a URL path)
INQUIRY_PATH = "/v1.0/transfer-va/inquiry"
PAYMENT_PATH = "/v1.0/transfer-va/payment"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
TIMEOUT_S = 10.0
# No proxy from the environment: a proxy would carry the requests off this
# machine, which the simulator must never do.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class NotLocal(ValueError):
    """The simulator was pointed at a server other than this machine."""


@dataclass(frozen=True)
class BankProfile:
    partner_id: str
    client_key: str
    partner_service_id: str
    channel_id: str
    signature_mode: str
    signature_encoding: str
    client_secret: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> "BankProfile":
        return cls(**json.loads(text))


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def code(self) -> str:
        return str(self.body.get("responseCode", ""))

    @property
    def message(self) -> str:
        return str(self.body.get("responseMessage", ""))


def now_timestamp() -> str:
    """Return the current local time as SNAP writes it: 2025-01-01T10:00:01+07:00."""
    return datetime.now(ZoneInfo(settings.TIME_ZONE)).isoformat(timespec="seconds")


def new_external_id() -> str:
    """Return a numeric X-EXTERNAL-ID that is unique for the day: 32 digits."""
    return f"{time.time_ns() % 10**19:019d}{secrets.randbelow(10**13):013d}"


def token_headers(
    profile: BankProfile, private_key: rsa.RSAPrivateKey, timestamp: str
) -> dict[str, str]:
    message = signatures.token_string_to_sign(profile.client_key, timestamp)
    signature = signatures.sign_rsa_sha256(private_key, message)
    return {
        "Content-Type": "application/json",
        "X-TIMESTAMP": timestamp,
        "X-CLIENT-KEY": profile.client_key,
        "X-SIGNATURE": signatures.encode_signature(
            signature, profile.signature_encoding
        ),
    }


def transaction_headers(
    profile: BankProfile,
    private_key: rsa.RSAPrivateKey | None,
    endpoint_url: str,
    body: bytes,
    *,
    access_token: str | None,
    timestamp: str,
    external_id: str,
) -> dict[str, str]:
    """Return the headers of a signed SNAP transaction request (method POST)."""
    headers = {
        "Content-Type": "application/json",
        "X-TIMESTAMP": timestamp,
        "X-PARTNER-ID": profile.partner_id,
        "X-EXTERNAL-ID": external_id,
        "CHANNEL-ID": profile.channel_id,
    }
    if profile.signature_mode == "hmac_sha512":
        assert profile.client_secret is not None and access_token is not None
        message = signatures.symmetric_string_to_sign(
            "POST", endpoint_url, access_token, body, timestamp
        )
        signature = signatures.hmac_sha512(profile.client_secret, message)
        headers["Authorization"] = f"Bearer {access_token}"
    else:
        assert private_key is not None
        message = signatures.asymmetric_string_to_sign(
            "POST", endpoint_url, body, timestamp
        )
        signature = signatures.sign_rsa_sha256(private_key, message)
    headers["X-SIGNATURE"] = signatures.encode_signature(
        signature, profile.signature_encoding
    )
    return headers


def check_local_url(url: str) -> str:
    """Return `url` without a trailing slash if it names this machine over HTTP."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.hostname not in LOCAL_HOSTS:
        raise NotLocal(
            f"{url} is not a server on this machine; the bank simulator only "
            "calls http://127.0.0.1:PORT or http://localhost:PORT"
        )
    return url.rstrip("/")


class SnapClient:
    """Sends signed SNAP requests to a city server on this machine."""

    def __init__(
        self,
        base_url: str,
        profile: BankProfile,
        private_key: rsa.RSAPrivateKey,
        *,
        pretty: bool = False,
    ) -> None:
        self.base_url = check_local_url(base_url)
        self.profile = profile
        self.private_key = private_key
        self.pretty = pretty
        self.access_token: str | None = None

    def fetch_token(self) -> Reply:
        body = json.dumps({"grantType": "client_credentials"}).encode()
        headers = token_headers(self.profile, self.private_key, now_timestamp())
        reply = self._post(TOKEN_PATH, body, headers)
        if reply.code == "2007300":
            self.access_token = str(reply.body["accessToken"])
        return reply

    def send(self, path: str, payload: dict[str, Any]) -> Reply:
        """Sign and send a transaction request with a fresh X-EXTERNAL-ID."""
        indent = 2 if self.pretty else None
        separators = None if self.pretty else (",", ":")
        body = json.dumps(payload, indent=indent, separators=separators).encode()
        headers = transaction_headers(
            self.profile,
            self.private_key,
            path,
            body,
            access_token=self.access_token,
            timestamp=now_timestamp(),
            external_id=new_external_id(),
        )
        return self._post(path, body, headers)

    def _post(self, path: str, body: bytes, headers: dict[str, str]) -> Reply:
        request = urllib.request.Request(  # noqa: S310  (URL checked local http)
            self.base_url + path, data=body, headers=headers, method="POST"
        )
        try:
            with _OPENER.open(request, timeout=TIMEOUT_S) as response:
                return Reply(
                    response.status, dict(response.headers), _json(response.read())
                )
        except urllib.error.HTTPError as error:
            return Reply(error.code, dict(error.headers), _json(error.read()))


def _json(data: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(data)
    except ValueError:
        return {"responseMessage": data[:200].decode(errors="replace")}
    return parsed if isinstance(parsed, dict) else {"responseMessage": str(parsed)}
