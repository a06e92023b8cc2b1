"""A partner bank played on this machine, for demos and end-to-end tests.

The simulated bank keeps its own files under `<KEYS_DIR>/bank-sim/`: an RSA
key pair (`private-key.pem`) and, per registration, a profile
(`partner-<ID>.json`, with the client secret in HMAC mode). `kotacerdas snap
partner add --demo` registers it with the city. `kotacerdas bank-sim topup`
then sends what a bank's VA system sends for a top-up: an access-token request
(HMAC mode), the inquiry, the payment, and optionally the same payment again.
"""

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings

from kotacerdas.snap import services, signatures
from kotacerdas.snap.client import (
    INQUIRY_PATH,
    PAYMENT_PATH,
    BankProfile,
    Reply,
    SnapClient,
)
from kotacerdas.snap.models import SignatureEncoding, SignatureMode, SnapPartner

DEMO_PARTNER_ID = "BANKSIM"
DEMO_BANK_NAME = "Bank simulator"
DEMO_SERVICE_ID = "77001"
DEMO_CHANNEL_ID = "95221"
SUCCESS = {"token": "2007300", "inquiry": "2002400", "payment": "2002500"}


class SimulationFailed(RuntimeError):
    """A step of the simulated top-up did not get its success code."""


def sim_dir() -> Path:
    return Path(settings.KEYS_DIR) / "bank-sim"


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)


def load_or_create_key() -> rsa.RSAPrivateKey:
    path = sim_dir() / "private-key.pem"
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey), f"{path} is not an RSA key"
        return key
    key = signatures.new_private_key()
    _write_private(
        path,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    return key


def profile_path(partner_id: str) -> Path:
    return sim_dir() / f"partner-{partner_id}.json"


def load_profile(partner_id: str) -> BankProfile:
    path = profile_path(partner_id)
    if not path.exists():
        raise FileNotFoundError(
            f"the bank simulator has no registration {partner_id!r} ({path}); "
            "run `kotacerdas snap partner add --demo` first"
        )
    return BankProfile.from_json(path.read_text(encoding="utf-8"))


def register_demo_partner(
    signature_mode: str = SignatureMode.HMAC_SHA512,
    signature_encoding: str = SignatureEncoding.BASE64,
    partner_id: str = DEMO_PARTNER_ID,
) -> tuple[SnapPartner, bool]:
    """Register the simulated bank with the city, or update its registration.

    Returns the partner and whether it was created. Writes the bank's profile
    file, so the simulator signs as the partner the city has registered.
    """
    public_pem = signatures.public_key_pem(load_or_create_key())
    partner = SnapPartner.objects.filter(partner_id=partner_id).first()
    created = partner is None
    if partner is None:
        new = services.add_partner(
            services.PartnerSettings(
                partner_id=partner_id,
                name=DEMO_BANK_NAME,
                service_id=DEMO_SERVICE_ID,
                channel_id=DEMO_CHANNEL_ID,
                signature_mode=signature_mode,
                signature_encoding=signature_encoding,
                public_key_pem=public_pem,
            )
        )
        partner, secret = new.partner, new.client_secret
    else:
        secret = services.change_partner(
            partner,
            signature_mode=signature_mode,
            signature_encoding=signature_encoding,
            public_key_pem=public_pem,
        )
    profile = BankProfile(
        partner_id=partner.partner_id,
        client_key=partner.client_key,
        partner_service_id=partner.partner_service_id,
        channel_id=partner.channel_id,
        signature_mode=partner.signature_mode,
        signature_encoding=partner.signature_encoding,
        client_secret=secret if signature_mode == SignatureMode.HMAC_SHA512 else None,
    )
    _write_private(profile_path(partner_id), profile.to_json().encode())
    return partner, created


@dataclass(frozen=True)
class TopUp:
    wallet_number: str
    amount: int
    repeat: int = 0


def _request_id() -> str:
    stamp = datetime.now(ZoneInfo(settings.TIME_ZONE)).strftime("%Y%m%d%H%M%S")
    return f"SIM-{stamp}-{secrets.token_hex(4).upper()}"


def run_top_up(
    client: SnapClient, top_up: TopUp, report: Callable[[str, Reply], None]
) -> list[Reply]:
    """Play one VA top-up against the server; raise SimulationFailed on a failure.

    `report` is called after each step with its name and the reply.
    """
    profile = client.profile
    replies = []

    def step(name: str, success: str, send: Callable[[], Reply]) -> Reply:
        reply = send()
        replies.append(reply)
        report(name, reply)
        if reply.code != success:
            raise SimulationFailed(
                f"{name} got {reply.code or reply.status} {reply.message}"
            )
        return reply

    if profile.signature_mode == SignatureMode.HMAC_SHA512:
        step("access token", SUCCESS["token"], client.fetch_token)
    va = {
        "partnerServiceId": profile.partner_service_id,
        "customerNo": top_up.wallet_number,
        "virtualAccountNo": profile.partner_service_id + top_up.wallet_number,
    }
    request_id = _request_id()
    amount = {"value": f"{top_up.amount}.00", "currency": "IDR"}
    inquiry = va | {"inquiryRequestId": request_id, "amount": amount}
    step("inquiry", SUCCESS["inquiry"], lambda: client.send(INQUIRY_PATH, inquiry))
    payment = va | {
        "paymentRequestId": request_id,
        "paidAmount": amount,
        "trxDateTime": datetime.now(ZoneInfo(settings.TIME_ZONE)).isoformat(
            timespec="seconds"
        ),
        "flagAdvise": "N",
    }
    step("payment", SUCCESS["payment"], lambda: client.send(PAYMENT_PATH, payment))
    retry = payment | {"flagAdvise": "Y"}
    for number in range(1, top_up.repeat + 1):
        step(
            f"repeat {number}",
            SUCCESS["payment"],
            lambda: client.send(PAYMENT_PATH, retry),
        )
    return replies
