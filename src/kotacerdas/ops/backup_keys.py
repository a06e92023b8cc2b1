"""The keys of a backup, encrypted under a passphrase into keys.enc.

The file is JSON: the scrypt parameters and salt, an AES-256-GCM nonce and the
ciphertext. The header is bound in as associated data, so changing a parameter
makes the file fail to open, like a wrong passphrase does. The plaintext lists
each key's bytes and the digest of the backup's file list (see
backup_manifest.files_digest).

Keys are the node's signing key, the plate key, the personal-data key and salt,
and the chain operator key. The node and plate keys retired by a rotation and
every other file in the keys directory (such as the Django secret key) go too. A key set through an environment
variable is backed up as the bytes the platform uses. No function here logs or
prints a key or the passphrase.
"""

import base64
import dataclasses
import json
import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from django.conf import settings

from kotacerdas.config.env import SettingError, env_str

logger = logging.getLogger(__name__)

KEYS_FORMAT = "kotacerdas-backup-keys/v1"
# The name of the environment variable, not a passphrase.
PASSPHRASE_VARIABLE = "KOTACERDAS_BACKUP_PASSPHRASE"  # noqa: S105
MIN_PASSPHRASE_CHARS = 12
# scrypt at N=2^17, r=8, p=1 takes 128 MiB and about 0.6 s on one core of the
# development machine; files asking for more than the limits are rejected
# before deriving, so a damaged header cannot exhaust memory.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1
MAX_SCRYPT_N, MAX_SCRYPT_R, MAX_SCRYPT_P = 2**20, 16, 4
NONCE_BYTES = 12
RETIRED_DIR = "retired"
SALT_BYTES = 16


class BackupKeyError(Exception):
    """The keys cannot be read, sealed, opened or restored."""


@dataclass(frozen=True)
class KeySource:
    """The location of one key: a file, unless its setting is configured.

    A setting contains text, and `decode_setting` and `encode_setting` convert
    between that text and the key bytes the platform uses.
    """

    name: str
    path: Path
    setting: str = ""
    required: bool = False
    # Keep this machine's copy when it differs from the backup's, instead of
    # asking for --replace-keys.
    keep_existing: bool = False
    decode_setting: Callable[[str], bytes] = str.encode
    encode_setting: Callable[[bytes], str] = bytes.decode

    def configured_value(self) -> bytes | None:
        value = getattr(settings, self.setting, "") if self.setting else ""
        return self.decode_setting(str(value)) if value else None

    def setting_file(self) -> Path | None:
        """Return the file named by the setting's _FILE variable, if one is set."""
        name = os.environ.get(f"{self.setting}_FILE", "") if self.setting else ""
        return Path(name) if name else None


@dataclass(frozen=True)
class KeyAction:
    """The restore step for one key: write a new file, keep an equal one, or replace one."""

    name: str
    path: Path
    action: str
    # The file content to write: the key, or its setting text for a _FILE.
    content: bytes = field(default=b"", repr=False)


def _decode_base64(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        raise BackupKeyError("KOTACERDAS_PII_KEY is not valid base64") from None


def _encode_base64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def key_sources() -> list[KeySource]:
    """Return the named keys and then every other file in the keys directory."""
    keys_dir = Path(settings.KEYS_DIR)
    named = [
        KeySource(
            "node-signing-key", Path(settings.KOTACERDAS_SIGNING_KEY_FILE), "", True
        ),
        KeySource("plate-key", Path(settings.KOTACERDAS_PLATE_KEY_FILE)),
        KeySource(
            "personal-data-key",
            keys_dir / "personal-data-key",
            "KOTACERDAS_PII_KEY",
            decode_setting=_decode_base64,
            encode_setting=_encode_base64,
        ),
        KeySource(
            "personal-data-salt",
            keys_dir / "personal-data-salt",
            "KOTACERDAS_PERSONAL_DATA_SALT",
        ),
        KeySource("chain-operator-key", Path(settings.KOTACERDAS_CHAIN_KEY_FILE)),
        # The settings create this key on a new machine before restore runs.
        # Another one only signs users out, so the machine's copy stays.
        KeySource(
            "django-secret-key", keys_dir / "django-secret-key", keep_existing=True
        ),
    ]
    # Key rotation copies a replaced node or plate key to
    # retired/<key file stem>-<key id><suffix> beside the key file, which may
    # lie outside the keys directory.
    retired = [
        KeySource(f"{source.name}/{RETIRED_DIR}/{path.name}", path)
        for source in named[:2]
        for path in sorted(
            (source.path.parent / RETIRED_DIR).glob(f"{source.path.stem}-*")
        )
        if path.is_file()
    ]
    covered = {source.path.resolve() for source in named + retired}
    others = []
    if keys_dir.is_dir():
        for path in sorted(keys_dir.rglob("*")):
            if path.is_file() and path.resolve() not in covered:
                relative = path.relative_to(keys_dir).as_posix()
                others.append(KeySource(f"keys-dir/{relative}", path))
    return named + retired + others


def collect_keys() -> dict[str, bytes]:
    """Read every key that exists, by name; raise if a required one is missing."""
    keys = {}
    for source in key_sources():
        value = source.configured_value()
        if value is None and source.path.is_file():
            value = source.path.read_bytes()
        if value is not None:
            keys[source.name] = value
        elif source.required:
            raise BackupKeyError(
                f"{source.name} not found at {source.path}; a backup needs it"
            )
    return keys


def read_passphrase(*, for_backup: bool) -> str:
    """Read the passphrase from KOTACERDAS_BACKUP_PASSPHRASE or its _FILE variant."""
    try:
        passphrase = env_str(PASSPHRASE_VARIABLE, "")
    except SettingError as error:
        raise BackupKeyError(str(error)) from None
    if not passphrase:
        raise BackupKeyError(
            f"{PASSPHRASE_VARIABLE} is not set; set it, or set "
            f"{PASSPHRASE_VARIABLE}_FILE to a file containing the passphrase. "
            "Keys are never written unencrypted."
        )
    if for_backup and len(passphrase) < MIN_PASSPHRASE_CHARS:
        raise BackupKeyError(
            f"the backup passphrase is {len(passphrase)} characters long; "
            f"use at least {MIN_PASSPHRASE_CHARS}"
        )
    return passphrase


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _associated_data(header: dict[str, Any]) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode()


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode())


def seal_keys(
    keys: dict[str, bytes], passphrase: str, files_digest: str, created_at: str
) -> bytes:
    """Return keys.enc: the keys and the file-list digest, encrypted."""
    salt, nonce = secrets.token_bytes(SALT_BYTES), secrets.token_bytes(NONCE_BYTES)
    header = {
        "format": KEYS_FORMAT,
        "kdf": {"name": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P},
        "salt": _b64(salt),
        "cipher": "AES-256-GCM",
        "nonce": _b64(nonce),
    }
    plaintext = json.dumps(
        {
            "created_at": created_at,
            "files_digest": files_digest,
            "keys": {name: _b64(value) for name, value in sorted(keys.items())},
        }
    ).encode()
    key = _derive(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, _associated_data(header))
    sealed = {**header, "ciphertext": _b64(ciphertext)}
    return (json.dumps(sealed, indent=2) + "\n").encode()


def _parse_header(data: bytes) -> tuple[dict[str, Any], bytes, bytes, bytes]:
    try:
        sealed = json.loads(data)
        header = {name: sealed[name] for name in ("format", "kdf", "salt", "cipher")}
        header["nonce"] = sealed["nonce"]
        salt = base64.b64decode(sealed["salt"], validate=True)
        nonce = base64.b64decode(sealed["nonce"], validate=True)
        ciphertext = base64.b64decode(sealed["ciphertext"], validate=True)
    except (ValueError, KeyError, TypeError):
        raise BackupKeyError(f"{KEYS_FORMAT} file is damaged: not readable") from None
    if header["format"] != KEYS_FORMAT or header["cipher"] != "AES-256-GCM":
        raise BackupKeyError(f"the keys file is not in the {KEYS_FORMAT} format")
    return header, salt, nonce, ciphertext


def _scrypt_parameters(kdf: Any) -> tuple[int, int, int]:
    try:
        n, r, p = int(kdf["n"]), int(kdf["r"]), int(kdf["p"])
    except (KeyError, TypeError, ValueError):
        raise BackupKeyError("the keys file has invalid scrypt parameters") from None
    if kdf.get("name") != "scrypt" or not (
        1 < n <= MAX_SCRYPT_N and 0 < r <= MAX_SCRYPT_R and 0 < p <= MAX_SCRYPT_P
    ):
        raise BackupKeyError(
            f"the keys file asks for scrypt parameters above the limits "
            f"(n {MAX_SCRYPT_N}, r {MAX_SCRYPT_R}, p {MAX_SCRYPT_P})"
        )
    return n, r, p


def open_keys(data: bytes, passphrase: str) -> tuple[dict[str, bytes], str]:
    """Decrypt keys.enc; return the keys by name and the sealed file-list digest."""
    header, salt, nonce, ciphertext = _parse_header(data)
    n, r, p = _scrypt_parameters(header["kdf"])
    key = _derive(passphrase, salt, n, r, p)
    try:
        plaintext = AESGCM(key).decrypt(nonce, ciphertext, _associated_data(header))
    except InvalidTag:
        raise BackupKeyError(
            "the passphrase does not open the keys file (wrong passphrase, or the "
            "file was changed)"
        ) from None
    content = json.loads(plaintext)
    keys = {name: base64.b64decode(value) for name, value in content["keys"].items()}
    return keys, str(content["files_digest"])


def _source_for(name: str, sources: dict[str, KeySource]) -> KeySource:
    """Return where a backed-up key goes on this machine, by its name in keys.enc."""
    if name in sources:
        return sources[name]
    parts = name.split("/")
    if ".." in parts or "" in parts:
        raise BackupKeyError(f"the keys file contains an invalid key name {name!r}")
    if parts[0] == "keys-dir" and len(parts) > 1:
        path = Path(settings.KEYS_DIR).joinpath(*parts[1:])
        # A file that a named key uses here keeps that key's rules.
        for source in sources.values():
            if source.path == path:
                return dataclasses.replace(source, name=name)
        return KeySource(name, path)
    owner = sources.get(parts[0])
    if owner is not None and len(parts) == 3 and parts[1] == RETIRED_DIR:
        return KeySource(name, owner.path.parent / RETIRED_DIR / parts[2])
    raise BackupKeyError(f"the keys file contains an unknown key {name!r}")


def _file_action(
    source: KeySource, path: Path, content: bytes, replace: bool
) -> KeyAction | str:
    if not path.exists() or path.stat().st_size == 0:
        return KeyAction(source.name, path, "write", content)
    if path.read_bytes() == content:
        return KeyAction(source.name, path, "keep")
    if source.keep_existing:
        logger.info("kept this machine's %s at %s", source.name, path)
        return KeyAction(source.name, path, "keep")
    if replace:
        return KeyAction(source.name, path, "replace", content)
    return (
        f"{path} contains another {source.name} than the backup. For a restore "
        "drill on a server whose keys were rotated since, restore into a scratch "
        "keys directory (KOTACERDAS_KEYS_DIR, docs/backups.md); use --replace-keys "
        "only to put the backup's keys in place of this server's (the old file "
        "is kept beside it)"
    )


def _setting_text(source: KeySource, value: bytes) -> bytes | str:
    """Return the key as the text its _FILE holds, or why it cannot be written."""
    try:
        return (source.encode_setting(value) + "\n").encode()
    except UnicodeDecodeError:
        return (
            f"the backup's {source.name} is binary and cannot be written to "
            f"{source.setting}_FILE; unset {source.setting}_FILE, so that "
            f"restore writes it to {source.path}"
        )


def _action_for(source: KeySource, value: bytes, replace: bool) -> KeyAction | str:
    """Return the action for one key, or the conflict that prevents it.

    A key whose setting is configured must equal the backup's. A setting read
    from an empty or missing _FILE counts as not configured, and restore writes
    the key into that file, which is how a new production server gets it.
    """
    configured = source.configured_value()
    if configured == value:
        return KeyAction(source.name, source.setting_file() or source.path, "keep")
    setting_file = source.setting_file()
    if setting_file is not None:
        content = _setting_text(source, value)
        if isinstance(content, str):
            return content
        return _file_action(source, setting_file, content, replace)
    if configured is not None:
        return (
            f"{source.setting} on this machine is not the {source.name} of the "
            f"backup; unset it, so that restore writes the backup's key to "
            f"{source.path}, or set it to the value kept in your secret store"
        )
    return _file_action(source, source.path, value, replace)


def plan_key_restore(keys: dict[str, bytes], replace: bool) -> list[KeyAction]:
    """Decide what happens to each key, before anything is written.

    Raises BackupKeyError listing every key whose configured copy differs from
    the backup's, unless `replace` allows replacing files.
    """
    sources = {source.name: source for source in key_sources()}
    actions, conflicts = [], []
    for name, value in sorted(keys.items()):
        outcome = _action_for(_source_for(name, sources), value, replace)
        if isinstance(outcome, str):
            conflicts.append(outcome)
        else:
            actions.append(outcome)
    if conflicts:
        raise BackupKeyError("; ".join(conflicts))
    return actions


def _write_private(path: Path, data: bytes) -> None:
    """Write a key file readable by its owner only.

    An existing empty file, such as a secret file prepared for the restore, is
    written in place, so it keeps the owner and mode its administrator chose.
    """
    if path.exists():
        with path.open("r+b") as file:
            file.truncate()
            file.write(data)
        return
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    os.replace(temporary, path)


def apply_key_restore(actions: list[KeyAction]) -> None:
    """Write the planned keys. A replaced file is renamed beside the new one, not lost."""
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
    for action in actions:
        if action.action == "replace":
            kept = action.path.with_name(f"{action.path.name}.replaced-{stamp}")
            action.path.rename(kept)
            logger.warning("moved the existing %s to %s", action.name, kept)
        if action.action in {"write", "replace"}:
            _write_private(action.path, action.content)
            logger.info("restored %s to %s", action.name, action.path)
