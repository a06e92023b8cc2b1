"""The encrypted keys file of a backup and where restored keys go."""

import base64
import json
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from kotacerdas.ops import backup_keys

PASSPHRASE = "a passphrase for the tests"
# A cheaper scrypt cost keeps the property test fast; the format records the
# cost, so opening works the same way as with the default.
TEST_SCRYPT_N = 2**10

key_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-/", min_size=1, max_size=30)


@hypothesis_settings(max_examples=40, deadline=None)
@given(
    keys=st.dictionaries(key_names, st.binary(max_size=300), max_size=6),
    passphrase=st.text(min_size=1, max_size=60),
    digest=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
)
def test_sealed_keys_open_again(keys, passphrase, digest):
    with mock.patch.object(backup_keys, "SCRYPT_N", TEST_SCRYPT_N):
        sealed = backup_keys.seal_keys(keys, passphrase, digest, "2026-12-05T00:00")

    opened, opened_digest = backup_keys.open_keys(sealed, passphrase)

    assert opened == keys
    assert opened_digest == digest


def test_changed_header_does_not_open():
    with mock.patch.object(backup_keys, "SCRYPT_N", TEST_SCRYPT_N):
        sealed = backup_keys.seal_keys({"k": b"secret"}, PASSPHRASE, "0" * 64, "now")
    document = json.loads(sealed)
    document["nonce"] = base64.b64encode(b"\0" * 12).decode()

    with pytest.raises(backup_keys.BackupKeyError) as raised:
        backup_keys.open_keys(json.dumps(document).encode(), PASSPHRASE)

    assert "does not open the keys file" in str(raised.value)


def test_excessive_scrypt_cost_is_rejected():
    with mock.patch.object(backup_keys, "SCRYPT_N", TEST_SCRYPT_N):
        sealed = backup_keys.seal_keys({"k": b"secret"}, PASSPHRASE, "0" * 64, "now")
    document = json.loads(sealed)
    document["kdf"]["n"] = 2**30

    with pytest.raises(backup_keys.BackupKeyError) as raised:
        backup_keys.open_keys(json.dumps(document).encode(), PASSPHRASE)

    assert "above the limits" in str(raised.value)


def test_damaged_keys_file_is_rejected():
    with pytest.raises(backup_keys.BackupKeyError) as raised:
        backup_keys.open_keys(b"{not json", PASSPHRASE)

    assert "damaged" in str(raised.value)


def point_keys_at(settings, root: Path, node_key_file: Path) -> None:
    settings.KEYS_DIR = root / "keys"
    settings.KOTACERDAS_SIGNING_KEY_FILE = node_key_file
    settings.KOTACERDAS_PLATE_KEY_FILE = root / "keys" / "plate-ed25519.pem"
    settings.KOTACERDAS_CHAIN_KEY_FILE = root / "keys" / "chain-operator.key"
    settings.KOTACERDAS_PII_KEY = ""
    settings.KOTACERDAS_PERSONAL_DATA_SALT = ""


def test_retired_keys_follow_their_key(settings, tmp_path):
    old = tmp_path / "old"
    point_keys_at(settings, old, old / "keys" / "node-ed25519.pem")
    (old / "keys" / "retired").mkdir(parents=True)
    (old / "keys" / "node-ed25519.pem").write_bytes(b"current node key")
    (old / "keys" / "retired" / "node-ed25519-1a2b.pem").write_bytes(b"old node key")
    (old / "keys" / "bank-sim").mkdir()
    (old / "keys" / "bank-sim" / "private.pem").write_bytes(b"bank simulator key")
    keys = backup_keys.collect_keys()
    new = tmp_path / "new"
    point_keys_at(settings, new, new / "etc" / "node.pem")

    actions = backup_keys.plan_key_restore(keys, replace=False)
    backup_keys.apply_key_restore(actions)

    assert set(keys) == {
        "node-signing-key",
        "node-signing-key/retired/node-ed25519-1a2b.pem",
        "keys-dir/bank-sim/private.pem",
    }
    assert (new / "etc" / "node.pem").read_bytes() == b"current node key"
    retired = new / "etc" / "retired" / "node-ed25519-1a2b.pem"
    assert retired.read_bytes() == b"old node key"
    simulator = new / "keys" / "bank-sim" / "private.pem"
    assert simulator.read_bytes() == b"bank simulator key"
    assert all(action.action == "write" for action in actions)


def test_configured_setting_must_match(settings, tmp_path):
    point_keys_at(settings, tmp_path, tmp_path / "keys" / "node-ed25519.pem")
    settings.KOTACERDAS_PERSONAL_DATA_SALT = "salt on this machine"
    keys = {"personal-data-salt": b"salt in the backup"}

    with pytest.raises(backup_keys.BackupKeyError) as raised:
        backup_keys.plan_key_restore(keys, replace=True)

    assert "KOTACERDAS_PERSONAL_DATA_SALT on this machine" in str(raised.value)
    assert not (tmp_path / "keys" / "personal-data-salt").exists()


def test_key_name_outside_keys_dir_is_rejected(settings, tmp_path):
    point_keys_at(settings, tmp_path, tmp_path / "keys" / "node-ed25519.pem")

    with pytest.raises(backup_keys.BackupKeyError) as raised:
        backup_keys.plan_key_restore({"keys-dir/../escape": b"x"}, replace=False)

    assert "invalid key name" in str(raised.value)


def test_empty_setting_file_receives_key(settings, tmp_path, monkeypatch):
    point_keys_at(settings, tmp_path, tmp_path / "keys" / "node-ed25519.pem")
    secret_file = tmp_path / "secrets" / "pii-key"
    secret_file.parent.mkdir()
    secret_file.touch(mode=0o640)
    monkeypatch.setenv("KOTACERDAS_PII_KEY_FILE", str(secret_file))
    key = bytes(range(32))

    actions = backup_keys.plan_key_restore({"personal-data-key": key}, replace=False)
    backup_keys.apply_key_restore(actions)

    assert secret_file.read_text() == base64.b64encode(key).decode() + "\n"
    assert secret_file.stat().st_mode & 0o777 == 0o640
    assert not (tmp_path / "keys" / "personal-data-key").exists()


def test_binary_salt_cannot_become_setting(settings, tmp_path, monkeypatch):
    point_keys_at(settings, tmp_path, tmp_path / "keys" / "node-ed25519.pem")
    secret_file = tmp_path / "salt"
    secret_file.touch()
    monkeypatch.setenv("KOTACERDAS_PERSONAL_DATA_SALT_FILE", str(secret_file))

    with pytest.raises(backup_keys.BackupKeyError) as raised:
        backup_keys.plan_key_restore({"personal-data-salt": b"\xff\xfe"}, replace=False)

    assert "unset KOTACERDAS_PERSONAL_DATA_SALT_FILE" in str(raised.value)
    assert secret_file.read_bytes() == b""


def test_machine_django_secret_key_stays(settings, tmp_path):
    point_keys_at(settings, tmp_path, tmp_path / "keys" / "node-ed25519.pem")
    local = tmp_path / "keys" / "django-secret-key"
    local.parent.mkdir()
    local.write_text("created by this machine's settings")
    keys = {"keys-dir/django-secret-key": b"the city's old secret key"}

    actions = backup_keys.plan_key_restore(keys, replace=False)
    backup_keys.apply_key_restore(actions)

    assert [action.action for action in actions] == ["keep"]
    assert local.read_text() == "created by this machine's settings"
