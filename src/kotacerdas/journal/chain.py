"""EVM chain access for anchoring: connection, keys, the contract and transactions.

This module uses no database, so a witness process can use it to
attest with its own key. `journal.anchoring` records what happens here.

Which chain: `KOTACERDAS_CHAIN_URL` when set; otherwise the local anvil node
that `kotacerdas run` started (its URL is written to var/chain/anvil.json);
otherwise an in-process chain (eth-tester with py-evm). The in-process chain
lives only as long as the process, and each process gets its own: its genesis
block carries random extra data, so its genesis hash distinguishes it.
"""

import hashlib
import json
import logging
import os
import secrets
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from django.conf import settings
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import (
    ContractLogicError,
    TimeExhausted,
    TransactionNotFound,
    Web3RPCError,
)
from web3.logs import DISCARD
from web3.types import RPCEndpoint, TxParams, Wei

from kotacerdas.config.ports import free_port

logger = logging.getLogger(__name__)

# NOTE: contracts/ sits at the repository root, outside the package, so the
# artifact is found only when kotacerdas runs from a checkout (pip install -e).
ROOT = Path(__file__).resolve().parents[3]
CONTRACT_SOURCE = ROOT / "contracts" / "Anchor.vy"
CONTRACT_ARTIFACT = ROOT / "contracts" / "Anchor.json"
EVM_VERSION = "cancun"

KIND_IN_PROCESS = "in-process"
KIND_ANVIL = "anvil"
KIND_JSON_RPC = "json-rpc"

ANVIL_CHAIN_ID = 31337
ANVIL_STATE_INTERVAL_S = 2
# Gas estimates get this margin: the state can change between the estimate
# and the block that includes the transaction.
GAS_MARGIN_PERCENT = 20
# Balance the operator key is topped up to on anvil and the in-process chain.
DEV_FUNDING_WEI = 10**20
RPC_TIMEOUT_S = 10.0


class ChainError(Exception):
    """A chain request failed; the message names the request and the cause."""


# --- the compiled contract ------------------------------------------------


def compile_contract(source_path: Path = CONTRACT_SOURCE) -> dict[str, Any]:
    """Compile the anchor contract with the pinned Vyper; needs the dev extras."""
    import vyper
    from vyper.compiler import compile_code

    source = source_path.read_text()
    output = compile_code(source, output_formats=["abi", "bytecode"])
    return {
        "contract": "Anchor",
        "compiler": f"vyper {vyper.__long_version__}",
        "evm_version": EVM_VERSION,
        "source": source_path.name,
        "source_sha256": hashlib.sha256(source.encode()).hexdigest(),
        "abi": output["abi"],
        "bytecode": output["bytecode"],
    }


def write_artifact(path: Path = CONTRACT_ARTIFACT) -> dict[str, Any]:
    artifact = compile_contract()
    path.write_text(json.dumps(artifact, indent=2) + "\n")
    return artifact


_artifact: dict[str, Any] | None = None


def artifact() -> dict[str, Any]:
    global _artifact
    if _artifact is None:
        _artifact = json.loads(CONTRACT_ARTIFACT.read_text())
    return _artifact


# --- connecting -----------------------------------------------------------


@dataclass
class Chain:
    w3: Web3
    kind: str
    url: str

    @property
    def in_process(self) -> bool:
        return self.kind == KIND_IN_PROCESS

    def chain_id(self) -> int:
        return int(self.w3.eth.chain_id)

    def genesis_hash(self) -> str:
        return "0x" + bytes(self.w3.eth.get_block(0)["hash"]).hex()

    def identity(self) -> str:
        """Return the hash of block 1, or of block 0 while no block 1 exists.

        This distinguishes chains that share a chain id. Block 0
        alone does not: anvil makes a new genesis block each time it starts,
        even when it loads the blocks after it from its state file, whose
        block 1 still names the original genesis as its parent.
        """
        number = 1 if self.w3.eth.block_number >= 1 else 0
        return "0x" + bytes(self.w3.eth.get_block(number)["hash"]).hex()

    def contract(self, address: str) -> Contract:
        return self.w3.eth.contract(
            address=Web3.to_checksum_address(address), abi=artifact()["abi"]
        )


_in_process: Chain | None = None
_in_process_lock = threading.Lock()


def new_in_process_chain() -> Chain:
    """Create an eth-tester chain whose genesis hash no other chain shares."""
    from eth_tester import EthereumTester, PyEVMBackend
    from web3 import EthereumTesterProvider

    params = PyEVMBackend.generate_genesis_params(
        overrides={"extra_data": secrets.token_bytes(32)}
    )
    backend = PyEVMBackend(genesis_parameters=params)
    w3 = Web3(EthereumTesterProvider(EthereumTester(backend)))
    return Chain(w3, KIND_IN_PROCESS, "")


def in_process_chain(create: bool = True) -> Chain | None:
    """Return this process's in-process chain, creating it when `create` is set."""
    global _in_process
    with _in_process_lock:
        if _in_process is None and create:
            _in_process = new_in_process_chain()
            logger.warning(
                "started an in-process development chain (genesis %s); "
                "it is lost when this process exits",
                _in_process.genesis_hash(),
            )
        return _in_process


def anvil_record_path() -> Path:
    return Path(settings.VAR_DIR) / "chain" / "anvil.json"


def recorded_anvil_url() -> str:
    """Return the URL of the anvil node `kotacerdas run` started, or ""."""
    try:
        return str(json.loads(anvil_record_path().read_text())["url"])
    except (OSError, ValueError, KeyError):
        return ""


def http_chain(url: str) -> Chain:
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": RPC_TIMEOUT_S}))
    try:
        client = str(w3.client_version)
    except (OSError, Web3RPCError, ValueError) as error:
        raise ChainError(f"chain node at {url} did not respond: {error}") from error
    kind = KIND_ANVIL if client.lower().startswith("anvil") else KIND_JSON_RPC
    return Chain(w3, kind, url)


def connect(url: str | None = None, allow_in_process: bool = True) -> Chain:
    """Connect to the configured chain, the local anvil node, or the in-process chain.

    Raises ChainError when a configured URL does not respond. A recorded anvil
    URL that does not respond falls through to the in-process chain, because
    `kotacerdas run` may have stopped it. With `allow_in_process` false and no
    node, raises ChainError instead of starting an in-process chain.
    """
    url = settings.KOTACERDAS_CHAIN_URL if url is None else url
    if url:
        return http_chain(url)
    anvil_url = recorded_anvil_url()
    if anvil_url:
        try:
            return http_chain(anvil_url)
        except ChainError as error:
            logger.warning("recorded anvil node is not running: %s", error)
    chain = in_process_chain(create=allow_in_process)
    if chain is None:
        raise ChainError("no chain node configured or running")
    return chain


# --- anvil ----------------------------------------------------------------


def anvil_binary() -> str | None:
    local = ROOT / "node_modules" / ".bin" / "anvil"
    if local.exists():
        return str(local)
    return shutil.which("anvil")


def start_anvil(
    state_dir: Path, port: int = 8545, timeout_s: float = 30.0
) -> tuple["subprocess.Popen[bytes]", str]:
    """Start anvil on 127.0.0.1 with its state kept in `state_dir`; wait until it answers.

    anvil loads `anvil-state.json` at start and writes it every
    ANVIL_STATE_INTERVAL_S seconds and on exit, so the chain survives a
    restart; a crash loses at most that many seconds of blocks. It runs in its
    own session, so a Ctrl+C in the terminal reaches only `kotacerdas run`,
    which then stops it with SIGTERM and lets it write its state. Raises
    ChainError when anvil is not installed or does not answer within
    `timeout_s`.
    """
    binary = anvil_binary()
    if binary is None:
        raise ChainError("anvil not found: run `npm ci` in the repository root")
    state_dir.mkdir(parents=True, exist_ok=True)
    port = free_port(port)
    url = f"http://127.0.0.1:{port}"
    command = [
        binary,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--chain-id",
        str(ANVIL_CHAIN_ID),
        "--state",
        str(state_dir / "anvil-state.json"),
        "--state-interval",
        str(ANVIL_STATE_INTERVAL_S),
        "--silent",
    ]
    process = subprocess.Popen(command, start_new_session=True)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ChainError(f"anvil exited with code {process.returncode}")
        try:
            http_chain(url)
        except ChainError:
            time.sleep(0.2)
            continue
        logger.info("anvil %s is listening at %s", process.pid, url)
        return process, url
    process.terminate()
    raise ChainError(
        f"anvil did not respond at {url} within {timeout_s} s; "
        "check that nothing else listens on that port"
    )


# --- keys and funding -----------------------------------------------------


def load_or_create_key(path: Path) -> LocalAccount:
    """Load a secp256k1 key (hex text), creating it with mode 0600 when missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = "0x" + secrets.token_hex(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first; read theirs
        else:
            with os.fdopen(fd, "w") as file:
                file.write(key + "\n")
            logger.info("created chain key %s", path)
    account: LocalAccount = Account.from_key(path.read_text().strip())
    return account


def fund_for_development(chain: Chain, address: str) -> None:
    """Top up `address` on anvil or the in-process chain; a real network is left alone."""
    if chain.kind == KIND_JSON_RPC:
        return
    if (
        chain.w3.eth.get_balance(Web3.to_checksum_address(address))
        >= DEV_FUNDING_WEI // 2
    ):
        return
    if chain.kind == KIND_ANVIL:
        chain.w3.provider.make_request(
            RPCEndpoint("anvil_setBalance"), [address, hex(DEV_FUNDING_WEI)]
        )
    else:
        faucet = chain.w3.eth.accounts[0]
        tx_hash = chain.w3.eth.send_transaction(
            {"from": faucet, "to": address, "value": Wei(DEV_FUNDING_WEI)}
        )
        chain.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RPC_TIMEOUT_S)
    logger.info("funded %s on the %s chain", address, chain.kind)


# --- transactions ---------------------------------------------------------


def revert_reason(error: BaseException) -> str | None:
    """Return the revert reason when `error` reports a reverted call, else None.

    Nodes report reverts in different shapes: web3 raises ContractLogicError
    with the decoded reason, eth-tester raises TransactionFailed, and some
    nodes return a JSON-RPC error whose message starts "execution reverted".
    """
    from eth_tester.exceptions import TransactionFailed

    if isinstance(error, ContractLogicError):
        message = str(error.message or error)
    elif isinstance(error, TransactionFailed):
        message = str(error.args[0] if error.args else error)
    elif isinstance(error, Web3RPCError) and "revert" in str(error).lower():
        message = str(error.message or error)
    else:
        return None
    prefix = "execution reverted: "
    return message[len(prefix) :] if message.startswith(prefix) else message


def fee_fields(w3: Web3) -> dict[str, int]:
    """Return EIP-1559 fee fields, or a legacy gas price on chains without a base fee."""
    base_fee = w3.eth.get_block("latest").get("baseFeePerGas")
    if base_fee is None:
        return {"gasPrice": int(w3.eth.gas_price)}
    try:
        tip = int(w3.eth.max_priority_fee)
    except (Web3RPCError, ValueError):
        tip = 0
    return {"maxFeePerGas": 2 * int(base_fee) + tip, "maxPriorityFeePerGas": tip}


@dataclass
class Submission:
    """A signed transaction: sent when `error` is empty, otherwise never broadcast."""

    tx_hash: str
    nonce: int
    sender: str
    sent_at_monotonic: float
    error: str = ""
    reverted: bool = False


def send_call(
    chain: Chain, account: LocalAccount, call: ContractFunction, gas: int | None = None
) -> Submission:
    """Sign `call` locally with an explicit nonce, gas and fees, and send it raw.

    With `gas` None the gas is estimated plus a margin. A revert during the
    estimate, or a node that rejects the raw transaction, returns a Submission
    with `error` set; its hash names the signed transaction that was not sent.
    Connection failures raise.
    """
    w3 = chain.w3
    nonce = w3.eth.get_transaction_count(account.address, "pending")
    base_tx: dict[str, Any] = {
        "from": account.address,
        "nonce": nonce,
        "chainId": chain.chain_id(),
        **fee_fields(w3),
    }
    error = ""
    reverted = False
    if gas is None:
        try:
            estimate = call.estimate_gas({"from": account.address})
            gas = estimate * (100 + GAS_MARGIN_PERCENT) // 100
        except Exception as caught:
            reason = revert_reason(caught)
            if reason is None:
                raise
            error, reverted, gas = f"reverted: {reason}", True, 200_000
    tx = call.build_transaction(cast(TxParams, {**base_tx, "gas": gas}))
    signed = account.sign_transaction(cast(dict[str, Any], tx))
    tx_hash = "0x" + bytes(signed.hash).hex()
    sent_at_monotonic = time.monotonic()
    if not error:
        try:
            w3.eth.send_raw_transaction(signed.raw_transaction)
        except Web3RPCError as caught:
            reason = revert_reason(caught)
            reverted = reason is not None
            error = f"reverted: {reason}" if reverted else f"rejected: {caught}"
    return Submission(
        tx_hash, nonce, account.address, sent_at_monotonic, error, reverted
    )


@dataclass
class Outcome:
    """The outcome of a mined transaction: status, block, gas and revert reason."""

    status: int
    block_number: int
    block_hash: str
    gas_used: int
    receipt: Any
    latency_ms: int
    error: str = ""


def wait_outcome(
    chain: Chain, submission: Submission, timeout_s: float
) -> Outcome | None:
    """Wait for the receipt; None when it did not arrive within `timeout_s`.

    For a receipt with status 0 the call is replayed at the block before, so
    the revert reason can be stored.
    """
    try:
        receipt = chain.w3.eth.wait_for_transaction_receipt(
            HexStr(submission.tx_hash), timeout=timeout_s, poll_latency=0.05
        )
    except TimeExhausted:
        return None
    return outcome_from_receipt(chain, receipt, submission.sent_at_monotonic)


def find_outcome(chain: Chain, tx_hash: str) -> Outcome | None:
    """Return the outcome of a sent transaction if it was mined, without waiting."""
    try:
        receipt = chain.w3.eth.get_transaction_receipt(HexStr(tx_hash))
    except TransactionNotFound:
        return None
    return outcome_from_receipt(chain, receipt, None)


def outcome_from_receipt(
    chain: Chain, receipt: Any, sent_at_monotonic: float | None
) -> Outcome:
    latency_ms = (
        int((time.monotonic() - sent_at_monotonic) * 1000)
        if sent_at_monotonic is not None
        else 0
    )
    error = ""
    if receipt["status"] != 1:
        error = "reverted: " + replayed_revert_reason(chain, receipt)
    return Outcome(
        status=int(receipt["status"]),
        block_number=int(receipt["blockNumber"]),
        block_hash="0x" + bytes(receipt["blockHash"]).hex(),
        gas_used=int(receipt["gasUsed"]),
        receipt=receipt,
        latency_ms=latency_ms,
        error=error,
    )


def replayed_revert_reason(chain: Chain, receipt: Any) -> str:
    tx = chain.w3.eth.get_transaction(receipt["transactionHash"])
    call = {"from": tx["from"], "to": tx["to"], "data": tx["input"]}
    try:
        chain.w3.eth.call(call, block_identifier=max(receipt["blockNumber"] - 1, 0))  # type: ignore[arg-type]
    except Exception as caught:
        reason = revert_reason(caught)
        if reason is not None:
            return reason
        logger.warning(
            "replaying reverted %s failed: %s", receipt["transactionHash"].hex(), caught
        )
    return "unknown reason (the replayed call did not revert)"


def deploy_contract(
    chain: Chain,
    account: LocalAccount,
    partners: list[str],
    threshold: int,
    timeout_s: float = 60.0,
) -> tuple[str, str]:
    """Deploy the anchor contract; return (contract address, transaction hash)."""
    factory = chain.w3.eth.contract(
        abi=artifact()["abi"], bytecode=artifact()["bytecode"]
    )
    constructor = factory.constructor(
        [Web3.to_checksum_address(partner) for partner in partners], threshold
    )
    submission = send_call(chain, account, constructor)  # type: ignore[arg-type]
    if submission.error:
        raise ChainError(f"deploying the anchor contract failed: {submission.error}")
    outcome = wait_outcome(chain, submission, timeout_s)
    if outcome is None:
        raise ChainError(
            f"deployment {submission.tx_hash} not mined within {timeout_s} s"
        )
    if outcome.status != 1:
        raise ChainError(f"deployment {submission.tx_hash} {outcome.error}")
    address = str(outcome.receipt["contractAddress"])
    logger.info(
        "deployed the anchor contract at %s in %s on chain %s",
        address,
        submission.tx_hash,
        chain.chain_id(),
    )
    return address, submission.tx_hash


def attest_call(contract: Contract, root: bytes, size: int) -> ContractFunction:
    return contract.functions.attest(root, size)


def attested_events(contract: Contract, receipt: Any) -> tuple[int, bool]:
    """Return (attestation count, finalized) from a receipt's own logs."""
    count = 0
    for event in contract.events.Attested().process_receipt(receipt, errors=DISCARD):
        count = int(event["args"]["count"])
    finalized = bool(
        contract.events.Finalized().process_receipt(receipt, errors=DISCARD)
    )
    return count, finalized
