"""Bundles built from a sealed, witnessed journal verify, and tampering is named."""

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from kotacerdas.journal import bundles, services
from kotacerdas.journal.models import Anchor, Block, ChainDeployment
from kotacerdas.verify import verify_bundle

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed(
    witnessed_block: Callable[[int], Block],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The bundle of entry 5 in a witnessed tree of 13 entries, and the keys."""
    witnessed_block(13)
    return bundles.build_bundle(5), bundles.published_keys()


def test_bundle_verifies_witnessed(
    signed: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    bundle, keys = signed
    result = verify_bundle(bundle, keys)
    assert result.ok, result.reason
    assert result.witnessed
    assert result.tree_size == 13
    assert result.index == 5
    assert result.event_type == "accounts.roles.changed"
    assert result.witnesses == ["witness.bank.example", "witness.inspectorate.example"]
    assert result.quorum == 2
    assert result.anchor is None
    assert result.summary == (
        "valid, included in the checkpoint of 13 entries, co-signed by 2 of 3 "
        "witnesses (witness.bank.example, witness.inspectorate.example)"
    )


def test_unwitnessed_bundle_says_so(
    appender: Callable[[int], None], witnesses: list[Any]
) -> None:
    appender(3)
    services_block = services.seal_pending()
    assert services_block is not None
    result = verify_bundle(bundles.build_bundle(1), bundles.published_keys())
    assert result.ok, result.reason
    assert not result.witnessed
    assert any(line.startswith("not yet witnessed") for line in result.lines())


def test_cli_require_quorum_verdict_first(
    appender: Callable[[int], None],
    witnesses: list[Any],
    cosigner: Callable[[Block, list[Any]], None],
    tmp_path: Path,
    offline_verifier: Any,
) -> None:
    appender(4)
    block = services.seal_pending()
    assert block is not None
    cosigner(block, witnesses[:1])
    (tmp_path / "bundle.json").write_text(json.dumps(bundles.build_bundle(2)))
    (tmp_path / "keys.json").write_text(json.dumps(bundles.published_keys()))
    arguments = [str(tmp_path / "bundle.json"), "--keys", str(tmp_path / "keys.json")]

    strict = offline_verifier(*arguments, "--require-quorum")
    lenient = offline_verifier(*arguments)

    assert strict.returncode == 1, strict.stdout + strict.stderr
    assert strict.stdout.splitlines() == [
        "invalid: not witnessed: 1 of the 2 cosignatures needed",
        "included in the checkpoint of 4 entries, co-signed by 1 of 3 witnesses "
        "(witness.bank.example)",
        "entry 2, event type accounts.roles.changed",
        "co-signed by: witness.bank.example",
        "not yet witnessed: 1 of the 2 cosignatures needed; fetch a newer bundle later",
        "no chain anchor in this bundle",
    ]
    assert lenient.returncode == 0, lenient.stdout + lenient.stderr
    assert lenient.stdout.splitlines()[0] == (
        "valid, included in the checkpoint of 4 entries, co-signed by 1 of 3 "
        "witnesses (witness.bank.example)"
    )
    assert not any(line.startswith("invalid") for line in lenient.stdout.splitlines())


def test_unsealed_entry_has_no_bundle(appender: Callable[[int], None]) -> None:
    appender(2)
    with pytest.raises(bundles.BundleNotReady, match="wait for the next checkpoint"):
        bundles.build_bundle(0)


def _flip_base64(value: str) -> str:
    return ("B" if value[0] == "A" else "A") + value[1:]


def _tamper_body(bundle: dict[str, Any]) -> None:
    body = json.loads(bundle["entry"]["body"])
    body["payload"]["user_id"] += 1
    bundle["entry"]["body"] = json.dumps(body, separators=(",", ":"), sort_keys=True)


def _tamper_index(bundle: dict[str, Any]) -> None:
    bundle["entry"]["index"] += 1


def _tamper_proof(bundle: dict[str, Any]) -> None:
    bundle["proof"][0] = _flip_base64(bundle["proof"][0])


def _replace_note_line(
    bundle: dict[str, Any], number: int, change: Callable[[str], str]
) -> None:
    lines = bundle["checkpoint"].split("\n")
    lines[number] = change(lines[number])
    bundle["checkpoint"] = "\n".join(lines)


def _tamper_root(bundle: dict[str, Any]) -> None:
    _replace_note_line(bundle, 2, _flip_base64)


def _tamper_signature(bundle: dict[str, Any], line: int) -> None:
    def change(text: str) -> str:
        name, encoded = text.rsplit(" ", 1)
        # Keep the 4-byte key id (6 base64 characters) so the line still names its key.
        middle = len(encoded) // 2
        flipped = "A" if encoded[middle] != "A" else "B"
        return f"{name} {encoded[:middle]}{flipped}{encoded[middle + 1 :]}"

    _replace_note_line(bundle, line, change)


def _tamper_origin(bundle: dict[str, Any]) -> None:
    bundle["origin"] = "forged.example/journal"


TAMPERS: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("body", _tamper_body, "proof"),
    ("index", _tamper_index, "index"),
    ("proof hash", _tamper_proof, "proof"),
    ("root", _tamper_root, "signature"),
    ("node signature", lambda bundle: _tamper_signature(bundle, 6), "signature"),
    ("cosignature", lambda bundle: _tamper_signature(bundle, 7), "cosignature"),
    ("origin", _tamper_origin, "origin"),
]


@pytest.mark.parametrize(
    ("field", "tamper", "code"), TAMPERS, ids=[t[0] for t in TAMPERS]
)
def test_single_field_tamper_rejected(
    signed: tuple[dict[str, Any], dict[str, Any]],
    field: str,
    tamper: Callable[[dict[str, Any]], None],
    code: str,
) -> None:
    bundle, keys = signed
    forged = copy.deepcopy(bundle)
    tamper(forged)
    assert forged != bundle, f"the {field} tamper changed nothing"
    result = verify_bundle(forged, keys)
    assert not result.ok
    assert result.code == code, result.reason
    assert result.summary.startswith("invalid: ")


def test_cli_verifies_offline(
    signed: tuple[dict[str, Any], dict[str, Any]], tmp_path: Path, offline_verifier: Any
) -> None:
    bundle, keys = signed
    (tmp_path / "bundle.json").write_text(json.dumps(bundle))
    (tmp_path / "keys.json").write_text(json.dumps(keys))
    done = offline_verifier(
        str(tmp_path / "bundle.json"), "--keys", str(tmp_path / "keys.json")
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("valid, included in the checkpoint of 13 entries")


def test_cli_rejects_tampered_offline(
    signed: tuple[dict[str, Any], dict[str, Any]], tmp_path: Path, offline_verifier: Any
) -> None:
    bundle, keys = signed
    _tamper_proof(bundle)
    (tmp_path / "bundle.json").write_text(json.dumps(bundle))
    (tmp_path / "keys.json").write_text(json.dumps(keys))
    done = offline_verifier(
        str(tmp_path / "bundle.json"), "--keys", str(tmp_path / "keys.json")
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.startswith("invalid: the inclusion proof of entry 5")


def test_cli_usage_errors(tmp_path: Path, offline_verifier: Any) -> None:
    missing = offline_verifier(
        str(tmp_path / "none.json"), "--keys", str(tmp_path / "k.json")
    )
    assert missing.returncode == 2
    assert "cannot read the bundle" in missing.stderr
    neither = offline_verifier()
    assert neither.returncode == 2


def test_bundle_prefers_an_anchored_witnessed_checkpoint(
    witnessed_block: Callable[[int], Block],
) -> None:
    anchored = witnessed_block(3)
    newer = witnessed_block(2)
    deployment = ChainDeployment.objects.create(
        chain_id=31337,
        genesis_hash="0x" + "ab" * 32,
        address="0x" + "12" * 20,
        deploy_tx="0x" + "34" * 32,
        partners=["0x" + "12" * 20],
        threshold=1,
    )
    Anchor.objects.create(
        block=anchored,
        deployment=deployment,
        sender="0x" + "12" * 20,
        nonce=0,
        tx_hash="0x" + "56" * 32,
        status=Anchor.Status.CONFIRMED,
        chain_block_number=7,
        final=True,
        sent_at=timezone.now(),
    )

    early = bundles.build_bundle(1)
    late = bundles.build_bundle(anchored.tree_size)

    assert early["checkpoint"].split("\n")[1] == str(anchored.tree_size)
    assert early["anchor"]["tx"] == "0x" + "56" * 32
    # An entry only the newer checkpoint contains is proved against it, unanchored.
    assert late["checkpoint"].split("\n")[1] == str(newer.tree_size)
    assert late["anchor"] is None
