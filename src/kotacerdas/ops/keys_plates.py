"""Rotating and revoking the plate key (`kotacerdas plates rotate-key|revoke-key`).

A rotation adds the old public key to the keyring file (see
registry.plates) before the new key file replaces the old one, so a plate
signed with the old key scans as genuine at every moment. With `revoke`, the
old key is marked compromised in the same write, and its plates scan as
"re-print needed". Every app server reads both files, so they must reach
every server that prints or scans plates.
"""

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.utils import timezone

from kotacerdas.ops.keyring import (
    RotationError,
    replace_key_file,
    retire_key_file,
    rotation_lock,
)
from kotacerdas.registry import plates
from kotacerdas.registry.models import Plate

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlateRotation:
    """The outcome of one rotation of the plate key."""

    old_key_id: str
    new_key_id: str
    revoked: bool
    plates_signed_by_old_key: int
    retired_file: Path


def _write_keyring(keys: list[plates.RetiredPlateKey]) -> None:
    """Replace the keyring file atomically (temporary file, fsync, rename)."""
    path = plates.keyring_path()
    value: dict[str, Any] = {
        "format": plates.KEYRING_FORMAT,
        "keys": [key.to_json() for key in keys],
    }
    staged = path.with_name(f".{path.name}.new")
    with open(staged, "w", encoding="utf-8") as file:
        json.dump(value, file, indent=2)
        file.write("\n")
        file.flush()
        os.fsync(file.fileno())
    os.replace(staged, path)


def active_plates_of(key_id: str) -> int:
    """Return how many issued or installed plates carry a signature by `key_id`."""
    return (
        Plate.objects.filter(key_id=key_id).exclude(status=Plate.Status.REVOKED).count()
    )


def rotate_plate_key(revoke: bool = False) -> PlateRotation:
    """Install a new plate key; with `revoke`, the old one is marked compromised."""
    path = Path(settings.KOTACERDAS_PLATE_KEY_FILE)
    with rotation_lock(path):
        old_key = plates.plate_key()
        old_id = plates.key_id(old_key.public_key())
        now = timezone.localtime().isoformat(timespec="seconds")
        keys = [key for key in plates.retired_keys() if key.key_id != old_id]
        keys.append(
            plates.RetiredPlateKey(
                old_id, old_key.public_key(), now, now if revoke else None
            )
        )
        retired_file = retire_key_file(path, old_key, old_id)
        new_key = Ed25519PrivateKey.generate()
        _write_keyring(keys)
        replace_key_file(path, new_key)
    new_id = plates.key_id(new_key.public_key())
    logger.info(
        "rotated plate key %s to %s%s",
        old_id,
        new_id,
        " and revoked the old key" if revoke else "",
    )
    return PlateRotation(old_id, new_id, revoke, active_plates_of(old_id), retired_file)


def revoke_plate_key(key_id: str) -> int:
    """Mark a retired plate key compromised; return how many active plates it signed.

    Raises RotationError for the current key (rotate it with `revoke` instead)
    and for a key id the keyring does not contain.
    """
    path = Path(settings.KOTACERDAS_PLATE_KEY_FILE)
    with rotation_lock(path):
        if key_id == plates.key_id(plates.plate_key().public_key()):
            raise RotationError(
                f"plate key {key_id} signs new plates; run `kotacerdas plates "
                "rotate-key --revoke-old` to replace and revoke it"
            )
        keys = plates.retired_keys()
        if key_id not in [key.key_id for key in keys]:
            raise RotationError(
                f"plate key {key_id} not found; see `kotacerdas plates keys`"
            )
        now = timezone.localtime().isoformat(timespec="seconds")
        _write_keyring(
            [
                plates.RetiredPlateKey(
                    key.key_id, key.public_key, key.retired_at, key.revoked_at or now
                )
                if key.key_id == key_id
                else key
                for key in keys
            ]
        )
    logger.info("revoked plate key %s", key_id)
    return active_plates_of(key_id)


def describe_plate_keys() -> list[str]:
    """Return one line per plate key: its id, its state and its active plates."""
    current = plates.key_id(plates.plate_key().public_key())
    lines = [f"{current} signs new plates, {active_plates_of(current)} active plates"]
    for key in reversed(plates.retired_keys()):
        state = (
            f"revoked {key.revoked_at}: its plates need re-printing"
            if key.revoked_at
            else f"retired {key.retired_at}: its plates scan as genuine"
        )
        lines.append(
            f"{key.key_id} {state}, {active_plates_of(key.key_id)} active plates"
        )
    return lines


def plates_to_reprint() -> list[tuple[str, str]]:
    """Return (plate code, kelurahan code) of each active plate signed by a revoked key."""
    revoked = list(plates.revoked_keys())
    rows = (
        Plate.objects.filter(key_id__in=revoked)
        .exclude(status=Plate.Status.REVOKED)
        .order_by("building__kelurahan__code", "code")
        .values_list("code", "building__kelurahan__code")
    )
    return [(code, kelurahan) for code, kelurahan in rows]
