"""A partner's own attestation on the anchor contract, with the partner's chain key.

A witness that co-signed a checkpoint can also call `attest(root, size)` on the
anchor contract, so a root becomes final without the operator's transaction.
This module needs no database: the witness server calls `attest_after_cosign`
after co-signing when it was started with `--chain-url`, `--contract` and
`--chain-key`, and `kotacerdas ledger attest` calls `attest_checkpoint`.
"""

import argparse
import logging
from dataclasses import dataclass
from pathlib import Path

from web3.contract import Contract

from kotacerdas.journal import chain as chains

logger = logging.getLogger(__name__)


@dataclass
class AttestResult:
    tx_hash: str
    status: str
    attestations: int
    final: bool
    error: str = ""

    def summary(self) -> str:
        final = " final" if self.final else ""
        error = f" ({self.error})" if self.error else ""
        return (
            f"{self.tx_hash or '-'} {self.status}{final}, "
            f"{self.attestations} attestations{error}"
        )


def add_chain_options(parser: argparse.ArgumentParser) -> None:
    """Add the options a witness needs to attest on the chain after co-signing."""
    parser.add_argument(
        "--chain-url", default="", help="JSON-RPC URL of the chain; empty: no attesting"
    )
    parser.add_argument("--contract", default="", help="anchor contract address")
    parser.add_argument(
        "--chain-key",
        type=Path,
        default=None,
        help="the witness's secp256k1 chain key file (created 0600 when missing)",
    )


def chain_address(key_file: Path) -> str:
    """Return the chain address of the key in `key_file`, creating the key if needed."""
    return str(chains.load_or_create_key(key_file).address)


def attest_checkpoint(
    chain_url: str | None,
    contract_address: str,
    key_file: Path,
    root: bytes,
    size: int,
    timeout_s: float = 30.0,
) -> AttestResult:
    """Send attest(root, size) signed with the key in `key_file` and wait for the receipt.

    Returns status "already attested" without a transaction when this key has
    attested the pair before. Raises ChainError when the chain does not respond.
    """
    chain = chains.http_chain(chain_url) if chain_url else chains.connect()
    account = chains.load_or_create_key(key_file)
    chains.fund_for_development(chain, account.address)
    contract = chain.contract(contract_address)
    if contract.functions.has_attested(root, size, account.address).call():
        return AttestResult(
            "",
            "already attested",
            count(contract, root, size),
            final(contract, root, size),
        )
    submission = chains.send_call(
        chain, account, chains.attest_call(contract, root, size)
    )
    if submission.error:
        return AttestResult(
            submission.tx_hash,
            "failed",
            count(contract, root, size),
            False,
            submission.error,
        )
    outcome = chains.wait_outcome(chain, submission, timeout_s)
    if outcome is None:
        return AttestResult(
            submission.tx_hash, "sent", 0, False, f"no receipt after {timeout_s} s"
        )
    status = "confirmed" if outcome.status == 1 else "reverted"
    return AttestResult(
        submission.tx_hash,
        status,
        count(contract, root, size),
        final(contract, root, size),
        outcome.error,
    )


def count(contract: Contract, root: bytes, size: int) -> int:
    return int(contract.functions.attestations(root, size).call())


def final(contract: Contract, root: bytes, size: int) -> bool:
    return bool(contract.functions.is_final(root, size).call())


def attest_after_cosign(
    options: argparse.Namespace, root: bytes, size: int
) -> AttestResult | None:
    """Attest a checkpoint the witness just co-signed; log and swallow chain errors.

    Co-signing must not fail because the chain is down, so every error is
    logged and None returned. Returns None too when the chain options are unset.
    """
    if not (options.chain_url and options.contract and options.chain_key):
        return None
    try:
        result = attest_checkpoint(
            options.chain_url, options.contract, options.chain_key, root, size
        )
    except Exception:
        logger.exception("attesting tree size %s on %s failed", size, options.contract)
        return None
    logger.info("attested tree size %s: %s", size, result.summary())
    return result
