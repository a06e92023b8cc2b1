"""Anchoring checkpoints on an EVM chain: the contract deployment and the anchor job.

The anchor job sends `attest(root, size)` for the latest witnessed block that
this operator has not anchored yet and records the transaction and its
receipt as an Anchor row. The contract is deployed on first use on each chain.
Its partner set is the operator's chain address plus every active witness's
chain address, so a change of partners or threshold deploys a new contract.

When no active witness is configured, nothing can be witnessed, so the job
anchors the latest block instead. The ledger page shows such anchors as not
witnessed.
"""

import logging
from argparse import _SubParsersAction
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from django.conf import settings
from django.core.management.base import CommandError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from eth_account.signers.local import LocalAccount
from web3 import Web3

from kotacerdas.journal import chain as chains
from kotacerdas.journal import services, witnessing
from kotacerdas.journal.cli_extensions import CheckReport
from kotacerdas.journal.models import Anchor, Block, ChainDeployment, Witness

logger = logging.getLogger(__name__)

RECEIPT_TIMEOUT_S = 30.0
STATUS_ROWS = 10


def operator_account() -> LocalAccount:
    return chains.load_or_create_key(Path(settings.KOTACERDAS_CHAIN_KEY_FILE))


def partner_addresses(operator: str) -> list[str]:
    """Return the operator's address, then active witnesses' chain addresses by name."""
    partners: list[str] = [Web3.to_checksum_address(operator)]
    addresses = (
        Witness.objects.filter(active=True)
        .exclude(chain_address="")
        .order_by("name")
        .values_list("chain_address", flat=True)
    )
    for address in addresses:
        checksummed = Web3.to_checksum_address(address)
        if checksummed not in partners:
            partners.append(checksummed)
    return partners


def effective_threshold(partner_count: int) -> int:
    """Return the configured threshold, lowered to the number of partners."""
    threshold = int(settings.KOTACERDAS_ANCHOR_THRESHOLD)
    if threshold > partner_count:
        logger.warning(
            "anchor threshold %s exceeds the %s partners; using %s",
            threshold,
            partner_count,
            partner_count,
        )
    return min(threshold, partner_count)


def matching_deployment(
    chain: chains.Chain, partners: list[str], threshold: int
) -> ChainDeployment | None:
    """Return the recorded deployment on this chain with these partners, if its code exists."""
    candidates = ChainDeployment.objects.filter(
        chain_id=chain.chain_id(),
        genesis_hash=chain.identity(),
        threshold=threshold,
    ).order_by("-deployed_at")
    for deployment in candidates:
        if deployment.partners != partners:
            continue
        # Code at the address confirms the contract is still there.
        address = Web3.to_checksum_address(deployment.address)
        if chain.w3.eth.get_code(address):
            return deployment
    return None


def ensure_deployment(chain: chains.Chain, account: LocalAccount) -> ChainDeployment:
    partners = partner_addresses(account.address)
    threshold = effective_threshold(len(partners))
    deployment = matching_deployment(chain, partners, threshold)
    if deployment is not None:
        return deployment
    chains.fund_for_development(chain, account.address)
    address, tx_hash = chains.deploy_contract(chain, account, partners, threshold)
    return ChainDeployment.objects.create(
        chain_id=chain.chain_id(),
        # Taken after the deployment, so block 1 exists on a new chain.
        genesis_hash=chain.identity(),
        address=address,
        deploy_tx=tx_hash,
        partners=partners,
        threshold=threshold,
        in_process=chain.in_process,
    )


def block_to_anchor() -> Block | None:
    """Return the latest witnessed block, or the latest block when no witness is active."""
    if Witness.objects.filter(active=True).exists():
        return witnessing.latest_witnessed_block()
    return services.latest_block()


def already_anchored(deployment: ChainDeployment, sender: str, block: Block) -> bool:
    """Check whether this sender has an anchor for this block or a later one that reached the chain."""
    return (
        Anchor.objects.filter(
            deployment=deployment, sender=sender, block__tree_size__gte=block.tree_size
        )
        .exclude(status=Anchor.Status.FAILED)
        .exists()
    )


def send_anchor(
    chain: chains.Chain,
    account: LocalAccount,
    deployment: ChainDeployment,
    block: Block,
    gas: int | None = None,
    timeout_s: float = RECEIPT_TIMEOUT_S,
) -> Anchor:
    """Send attest(root, size) for `block`, record it, wait for and record the receipt.

    The row is stored as sent before waiting, so a crash while waiting leaves
    a row that the next run completes. A revert, whether the node reports it
    during the gas estimate, when the transaction is sent or in a receipt with
    status 0, is stored with its reason.
    """
    contract = chain.contract(deployment.address)
    call = chains.attest_call(contract, bytes(block.root_hash), block.tree_size)
    submission = chains.send_call(chain, account, call, gas=gas)
    anchor, _created = Anchor.objects.update_or_create(
        tx_hash=submission.tx_hash,
        defaults={
            "block": block,
            "deployment": deployment,
            "sender": submission.sender,
            "nonce": submission.nonce,
            "status": Anchor.Status.FAILED if submission.error else Anchor.Status.SENT,
            "error": submission.error,
            "sent_at": timezone.now(),
        },
    )
    if submission.error:
        logger.error(
            "anchor of block %s not sent (%s): %s",
            block.height,
            submission.tx_hash,
            submission.error,
        )
        return anchor
    outcome = chains.wait_outcome(chain, submission, timeout_s)
    if outcome is None:
        logger.warning(
            "anchor %s of block %s has no receipt after %s s; checking again later",
            submission.tx_hash,
            block.height,
            timeout_s,
        )
        return anchor
    record_outcome(chain, anchor, outcome)
    return anchor


def record_outcome(
    chain: chains.Chain, anchor: Anchor, outcome: chains.Outcome
) -> None:
    contract = chain.contract(anchor.deployment.address)
    anchor.chain_block_number = outcome.block_number
    anchor.chain_block_hash = outcome.block_hash
    anchor.gas_used = outcome.gas_used
    anchor.confirmed_at = timezone.now()
    if outcome.latency_ms:
        anchor.latency_ms = outcome.latency_ms
    if outcome.status == 1:
        _count, finalized = chains.attested_events(contract, outcome.receipt)
        anchor.status = Anchor.Status.CONFIRMED
        anchor.final = finalized or is_final_on_chain(chain, anchor)
    else:
        anchor.status = Anchor.Status.REVERTED
        anchor.error = outcome.error
        logger.error(
            "anchor %s of block %s %s", anchor.tx_hash, anchor.block_id, outcome.error
        )
    anchor.save()
    logger.info(
        "anchor %s of block %s %s in chain block %s",
        anchor.tx_hash,
        anchor.block_id,
        anchor.status,
        anchor.chain_block_number,
    )


def is_final_on_chain(chain: chains.Chain, anchor: Anchor) -> bool:
    contract = chain.contract(anchor.deployment.address)
    block = anchor.block
    return bool(
        contract.functions.is_final(bytes(block.root_hash), block.tree_size).call()
    )


def has_attested(
    chain: chains.Chain, deployment: ChainDeployment, sender: str, block: Block
) -> bool:
    contract = chain.contract(deployment.address)
    call = contract.functions.has_attested(
        bytes(block.root_hash), block.tree_size, sender
    )
    return bool(call.call())


def refresh_open_anchors(chain: chains.Chain, deployment: ChainDeployment) -> None:
    """Complete sent anchors that have a receipt now, and mark anchors that became final.

    A root becomes final when enough partners attest it, which may happen after
    the operator's own transaction, for example when witnesses attest later.
    """
    open_anchors = Anchor.objects.filter(deployment=deployment).filter(
        Q(status=Anchor.Status.SENT) | Q(status=Anchor.Status.CONFIRMED, final=False)
    )
    for anchor in open_anchors.select_related("block", "deployment")[:50]:
        if anchor.status == Anchor.Status.SENT:
            outcome = chains.find_outcome(chain, anchor.tx_hash)
            if outcome is not None:
                record_outcome(chain, anchor, outcome)
        elif is_final_on_chain(chain, anchor):
            anchor.final = True
            anchor.save(update_fields=["final"])


def anchor_now(
    chain: chains.Chain | None = None, timeout_s: float = RECEIPT_TIMEOUT_S
) -> Anchor | None:
    """Anchor the latest witnessed block unless it is anchored already; the worker's job."""
    block = block_to_anchor()
    if block is None:
        return None
    chain = chain or chains.connect()
    account = operator_account()
    deployment = ensure_deployment(chain, account)
    refresh_open_anchors(chain, deployment)
    if already_anchored(deployment, account.address, block):
        return None
    if has_attested(chain, deployment, account.address, block):
        # The transaction went through but its row was not recorded, for
        # example because the worker stopped while waiting for the receipt.
        logger.warning(
            "block %s is attested on %s but has no anchor row; skipping it",
            block.height,
            deployment.address,
        )
        return None
    return send_anchor(chain, account, deployment, block, timeout_s=timeout_s)


# --- ledger verify ----------------------------------------------------------


def extra_checks() -> list[CheckReport]:
    report = CheckReport(name="chain anchors")
    confirmed = Anchor.objects.filter(status=Anchor.Status.CONFIRMED).select_related(
        "block", "deployment"
    )
    by_deployment: dict[int, list[Anchor]] = {}
    for anchor in confirmed.order_by("pk"):
        by_deployment.setdefault(anchor.deployment_id, []).append(anchor)
    for anchors in by_deployment.values():
        deployment = anchors[0].deployment
        chain, why_not = chain_for(deployment)
        if chain is None:
            report.unchecked.extend(
                f"anchor {anchor.tx_hash} of block {anchor.block_id}: {why_not}"
                for anchor in anchors
            )
            continue
        for anchor in anchors:
            report.checked += 1
            report.problems.extend(check_anchor(chain, anchor))
    return [report]


def chain_for(deployment: ChainDeployment) -> tuple[chains.Chain | None, str]:
    """Return a connection to the deployment's chain, or None and the reason."""
    try:
        if deployment.in_process:
            chain = chains.in_process_chain(create=False)
            if chain is None:
                return None, "in-process chain of another process"
        else:
            chain = chains.connect(allow_in_process=False)
        identity = chain.identity()
        chain_id = chain.chain_id()
    except (chains.ChainError, OSError, ValueError) as error:
        return None, f"chain unreachable ({error})"
    if (chain_id, identity) != (deployment.chain_id, deployment.genesis_hash):
        if deployment.in_process:
            return None, "in-process chain of another process"
        return None, f"connected chain {chain_id} is not chain {deployment.chain_id}"
    return chain, ""


def check_anchor(chain: chains.Chain, anchor: Anchor) -> list[str]:
    """Compare one confirmed anchor row with the transaction and receipt on the chain."""
    name = f"anchor {anchor.tx_hash} of block {anchor.block_id}"
    outcome = chains.find_outcome(chain, anchor.tx_hash)
    if outcome is None:
        return [f"{name}: transaction not found on the chain"]
    problems = []
    if outcome.status != 1:
        problems.append(f"{name}: receipt status {outcome.status}, recorded confirmed")
    if outcome.block_hash != anchor.chain_block_hash:
        problems.append(
            f"{name}: mined in chain block {outcome.block_hash}, "
            f"recorded {anchor.chain_block_hash}"
        )

    tx = chain.w3.eth.get_transaction(anchor.tx_hash)  # type: ignore[arg-type]
    contract = chain.contract(anchor.deployment.address)
    if str(tx["to"]).lower() != anchor.deployment.address.lower():
        problems.append(f"{name}: sent to {tx['to']}, not the anchor contract")
        return problems
    function, arguments = contract.decode_function_input(tx["input"])
    block = anchor.block
    expected = (bytes(block.root_hash), block.tree_size)
    if (
        function.fn_name != "attest"
        or (
            bytes(arguments["root"]),
            arguments["size"],
        )
        != expected
    ):
        problems.append(
            f"{name}: the transaction does not attest block {block.height}'s "
            f"root and size {block.tree_size}"
        )
    if anchor.final and not is_final_on_chain(chain, anchor):
        problems.append(
            f"{name}: recorded final, but the root is not final on the chain"
        )
    return problems


# --- kotacerdas ledger anchor / chain -------------------------------------------


def add_parsers(verbs: "_SubParsersAction[Any]") -> None:
    verbs.add_parser(
        "anchor", help="anchor the latest witnessed checkpoint on the chain now"
    )
    verbs.add_parser(
        "chain", help="print the chain, the anchor contract and its partners"
    )
    verbs.add_parser(
        "contract-compile",
        help="recompile contracts/Anchor.vy into contracts/Anchor.json",
    )
    attest = verbs.add_parser(
        "attest",
        help="attest the latest witnessed checkpoint with a partner's own chain key",
    )
    attest.add_argument(
        "--key-file", required=True, help="the partner's secp256k1 key file"
    )
    attest.add_argument(
        "--contract", default="", help="contract address; default: the deployment"
    )
    attest.add_argument(
        "--chain-url", default=None, help="JSON-RPC URL; default: as the node"
    )


def handle(verb: str, options: dict[str, Any], stdout: TextIO) -> bool:
    if verb == "anchor":
        print_anchor(anchor_now(), stdout)
    elif verb == "chain":
        print_chain(stdout)
    elif verb == "contract-compile":
        built = chains.write_artifact()
        stdout.write(
            f"wrote {chains.CONTRACT_ARTIFACT} ({built['compiler']}, "
            f"EVM {built['evm_version']})\n"
        )
    elif verb == "attest":
        attest_as_partner(options, stdout)
    else:
        return False
    return True


def print_anchor(anchor: Anchor | None, stdout: TextIO) -> None:
    if anchor is None:
        stdout.write("nothing to anchor: the latest witnessed block is anchored\n")
        return
    stdout.write(
        f"block {anchor.block_id} at tree size {anchor.block.tree_size}: "
        f"{anchor.tx_hash} {anchor.status}"
        f"{' final' if anchor.final else ''}"
        f"{' (' + anchor.error + ')' if anchor.error else ''}\n"
    )


def print_chain(stdout: TextIO) -> None:
    chain = chains.connect()
    account = operator_account()
    deployment = ensure_deployment(chain, account)
    stdout.write(f"chain: {chain.kind} {chain.url}\n")
    stdout.write(f"chain id: {deployment.chain_id}\n")
    stdout.write(f"contract: {deployment.address}\n")
    stdout.write(f"partners: {', '.join(deployment.partners)}\n")
    stdout.write(f"threshold: {deployment.threshold}\n")
    stdout.write(f"operator: {account.address}\n")


def attest_as_partner(options: dict[str, Any], stdout: TextIO) -> None:
    from kotacerdas.witness.attest import attest_checkpoint

    block = block_to_anchor()
    if block is None:
        raise CommandError("no witnessed block to attest")
    address = options["contract"]
    if not address:
        deployment = ChainDeployment.objects.exclude(in_process=True).first()
        if deployment is None:
            raise CommandError("no anchor contract deployed; run `ledger anchor` first")
        address = deployment.address
    result = attest_checkpoint(
        chain_url=options["chain_url"],
        contract_address=address,
        key_file=Path(options["key_file"]),
        root=bytes(block.root_hash),
        size=block.tree_size,
    )
    stdout.write(result.summary() + "\n")


# --- ledger page --------------------------------------------------------------


@dataclass
class AnchorRow:
    anchor: Anchor
    witnessed: bool
    attestations: int | None


def status_context() -> dict[str, Any]:
    """Return what the ledger page shows about the chain and the latest anchors."""
    deployment = ChainDeployment.objects.first()
    if deployment is None:
        return {"chain_deployment": None, "anchor_rows": []}
    anchors = list(
        Anchor.objects.filter(deployment=deployment)
        .select_related("block")
        .order_by("-sent_at")[:STATUS_ROWS]
    )
    counts = attestation_counts(deployment, anchors)
    quorum = witnessing.quorum()
    rows = [
        AnchorRow(
            anchor,
            witnessing.cosignature_count(anchor.block) >= quorum,
            counts.get(anchor.pk),
        )
        for anchor in anchors
    ]
    return {
        "chain_deployment": deployment,
        "chain_kind": chain_kind(deployment),
        "anchor_rows": rows,
    }


def chain_kind(deployment: ChainDeployment) -> str:
    if deployment.in_process:
        return _("in-process chain")
    if settings.KOTACERDAS_CHAIN_URL:
        return _("JSON-RPC node %(url)s") % {"url": settings.KOTACERDAS_CHAIN_URL}
    return _("local anvil node")


def attestation_counts(
    deployment: ChainDeployment, anchors: list[Anchor]
) -> dict[int, int]:
    """Read live attestation counts; empty when the chain is in-process or unreachable."""
    if deployment.in_process or not anchors:
        return {}
    try:
        chain = chains.connect(allow_in_process=False)
        contract = chain.contract(deployment.address)
        return {
            anchor.pk: int(
                contract.functions.attestations(
                    bytes(anchor.block.root_hash), anchor.block.tree_size
                ).call()
            )
            for anchor in anchors
        }
    except Exception as error:
        logger.warning("reading attestation counts failed: %s", error)
        return {}
