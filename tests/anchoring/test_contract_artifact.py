"""The committed contract artifact matches its source."""

import hashlib
import json

from kotacerdas.journal import chain as chains


def test_recompiled_bytecode_matches_artifact() -> None:
    committed = json.loads(chains.CONTRACT_ARTIFACT.read_text())

    rebuilt = chains.compile_contract()

    assert rebuilt["bytecode"] == committed["bytecode"]
    assert rebuilt["abi"] == committed["abi"]
    assert rebuilt["compiler"] == committed["compiler"]


def test_artifact_names_source_hash() -> None:
    committed = json.loads(chains.CONTRACT_ARTIFACT.read_text())
    source = chains.CONTRACT_SOURCE.read_bytes()

    assert committed["source_sha256"] == hashlib.sha256(source).hexdigest()
    assert committed["evm_version"] == "cancun"
    assert "#pragma evm-version cancun" in source.decode()
