"""A witness's directory: its key, the logs it trusts, its state and evidence.

Layout of the directory:

- `witness-ed25519.pem`: the private key (PKCS#8 PEM, mode 0600);
- `witness.json`: the witness name and the trusted logs, origin -> verifier key;
- `state.json`: per origin, the latest checkpoint co-signed and its cosignature;
- `evidence/`: one JSON file per rejected checkpoint that the log had signed;
- `retired/`: the private keys that `rotate-key` replaced, named by key id;
- `.lock`: taken with flock around every read-check-write of the state.

Both JSON files are replaced atomically (temporary file, fsync, os.replace),
and every change happens under the lock, so the check of the old size and the
update of the state are one step, across threads and processes alike.
"""

import fcntl
import json
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from kotacerdas.journal.notes import Verifier, cosigner_key

logger = logging.getLogger(__name__)

KEY_FILE = "witness-ed25519.pem"
CONFIG_FILE = "witness.json"
STATE_FILE = "state.json"
EVIDENCE_DIR = "evidence"
RETIRED_DIR = "retired"
LOCK_FILE = ".lock"


class WitnessSetupError(RuntimeError):
    """The witness directory is missing, incomplete or contains an invalid file."""


@dataclass(frozen=True)
class LogState:
    """The latest checkpoint a witness co-signed for one log."""

    size: int
    root_hash: bytes
    checkpoint: str
    cosignature: str

    def to_json(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "root": self.root_hash.hex(),
            "checkpoint": self.checkpoint,
            "cosignature": self.cosignature,
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> "LogState":
        return cls(
            int(value["size"]),
            bytes.fromhex(value["root"]),
            str(value["checkpoint"]),
            str(value["cosignature"]),
        )


def write_json_atomically(path: Path, value: Any) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "w", encoding="utf-8") as file:
        json.dump(value, file, indent=2, sort_keys=True)
        file.write("\n")
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def write_key(path: Path, key: Ed25519PrivateKey) -> None:
    """Write a new private key file (PKCS#8 PEM, mode 0600), failing if it exists."""
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
        file.flush()
        os.fsync(file.fileno())


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WitnessSetupError(
            f"{path} not found; run `kotacerdas witness init --dir {path.parent}`"
        ) from None
    except ValueError as error:
        raise WitnessSetupError(f"{path} is not valid JSON: {error}") from error


class WitnessStore:
    """The files of one witness directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @property
    def evidence_dir(self) -> Path:
        return self.directory / EVIDENCE_DIR

    def init(self, name: str) -> bool:
        """Create the key, the config and the state; return False if they exist."""
        if not name or any(char.isspace() or char == "+" for char in name):
            raise WitnessSetupError(
                f"witness name {name!r} is invalid: use a non-empty name "
                "without spaces or '+', such as witness.example.org"
            )
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.evidence_dir.mkdir(exist_ok=True, mode=0o700)
        key_path = self.directory / KEY_FILE
        if key_path.exists():
            return False
        write_key(key_path, Ed25519PrivateKey.generate())
        with self.locked():
            write_json_atomically(
                self.directory / CONFIG_FILE, {"name": name, "logs": {}}
            )
            write_json_atomically(self.directory / STATE_FILE, {"logs": {}})
        logger.info("created witness %s in %s", name, self.directory)
        return True

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the directory's exclusive lock (flock, so threads wait too)."""
        with open(self.directory / LOCK_FILE, "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def private_key(self) -> Ed25519PrivateKey:
        path = self.directory / KEY_FILE
        try:
            key = load_pem_private_key(path.read_bytes(), password=None)
        except FileNotFoundError:
            raise WitnessSetupError(
                f"witness key {path} not found; run "
                f"`kotacerdas witness init --dir {self.directory} --name NAME`"
            ) from None
        except ValueError as error:
            raise WitnessSetupError(f"{path} is not a PEM private key") from error
        if not isinstance(key, Ed25519PrivateKey):
            raise WitnessSetupError(f"{path} is not an Ed25519 key")
        return key

    def rotate_key(self) -> tuple[str, str, Path]:
        """Replace the witness key with a new one; return the old and new vkeys.

        The old private key is kept in `retired/`, named by its key id. The
        new key takes its place in one rename under the directory lock, so a
        request co-signs with the old key or the new one, never with none.
        Returns (old vkey, new vkey, path of the retired key).
        """
        key_path = self.directory / KEY_FILE
        with self.locked():
            old_key = self.private_key()
            old_vkey = cosigner_key(self.name(), old_key.public_key())
            key_id = old_vkey.split("+")[1]
            retired = self.directory / RETIRED_DIR / f"witness-ed25519-{key_id}.pem"
            retired.parent.mkdir(exist_ok=True, mode=0o700)
            if not retired.exists():
                write_key(retired, old_key)
            new_key = Ed25519PrivateKey.generate()
            staged = self.directory / f".{KEY_FILE}.new"
            staged.unlink(missing_ok=True)
            write_key(staged, new_key)
            os.replace(staged, key_path)
            new_vkey = cosigner_key(self.name(), new_key.public_key())
        logger.info(
            "witness %s rotated its key from %s to %s",
            self.name(),
            key_id,
            new_vkey.split("+")[1],
        )
        return old_vkey, new_vkey, retired

    def name(self) -> str:
        return str(read_json(self.directory / CONFIG_FILE)["name"])

    def vkey(self) -> str:
        return cosigner_key(self.name(), self.private_key().public_key())

    def trusted_logs(self) -> dict[str, Verifier]:
        """Return the trusted logs, origin -> the log's verifier."""
        logs = read_json(self.directory / CONFIG_FILE)["logs"]
        return {origin: Verifier.parse(vkey) for origin, vkey in logs.items()}

    def trust(self, vkey: str) -> str:
        """Trust a log's verifier key (its name is the origin); return the origin."""
        verifier = Verifier.parse(vkey)
        with self.locked():
            config = read_json(self.directory / CONFIG_FILE)
            config["logs"][verifier.name] = vkey
            write_json_atomically(self.directory / CONFIG_FILE, config)
        logger.info(
            "trusting log %s with key id %s", verifier.name, verifier.key_id.hex()
        )
        return verifier.name

    def untrust(self, origin_or_vkey: str) -> bool:
        """Stop trusting a log, by origin or verifier key; its state is kept."""
        origin = origin_or_vkey.split("+", 1)[0]
        with self.locked():
            config = read_json(self.directory / CONFIG_FILE)
            removed = config["logs"].pop(origin, None) is not None
            write_json_atomically(self.directory / CONFIG_FILE, config)
        if removed:
            logger.info("no longer trusting log %s", origin)
        return removed

    def log_state(self, origin: str) -> LogState | None:
        """Read one log's state; call it under `locked()` to act on the value."""
        logs = read_json(self.directory / STATE_FILE)["logs"]
        return LogState.from_json(logs[origin]) if origin in logs else None

    def save_log_state(self, origin: str, state: LogState) -> None:
        """Write one log's state; call it inside `locked()`."""
        value = read_json(self.directory / STATE_FILE)
        value["logs"][origin] = state.to_json()
        write_json_atomically(self.directory / STATE_FILE, value)

    def keep_evidence(self, reason: str, record: dict[str, Any]) -> Path:
        """Write one evidence file and return its path."""
        self.evidence_dir.mkdir(exist_ok=True, mode=0o700)
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        path = self.evidence_dir / f"{stamp}-{reason}-{time.time_ns()}.json"
        write_json_atomically(path, {"reason": reason, **record})
        return path
