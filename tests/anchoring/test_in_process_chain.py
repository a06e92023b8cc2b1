"""Anchoring against the in-process chain (eth-tester with py-evm)."""

import stat
from collections.abc import Callable
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from eth_account.signers.local import LocalAccount

from kotacerdas.journal import anchoring
from kotacerdas.journal import chain as chains
from kotacerdas.journal.models import Anchor, Block, ChainDeployment, Witness
from kotacerdas.witness.attest import attest_checkpoint

PartnerKey = Callable[[str], tuple[Path, LocalAccount]]
ROOT = b"\x11" * 32


def deploy(chain: chains.Chain, partners: list[LocalAccount], threshold: int):
    operator = partners[0]
    chains.fund_for_development(chain, operator.address)
    address, _tx = chains.deploy_contract(
        chain, operator, [partner.address for partner in partners], threshold
    )
    return chain.contract(address)


def attest(chain: chains.Chain, account: LocalAccount, contract, size: int = 5):
    chains.fund_for_development(chain, account.address)
    submission = chains.send_call(
        chain, account, chains.attest_call(contract, ROOT, size)
    )
    outcome = None
    if not submission.error:
        outcome = chains.wait_outcome(chain, submission, 10.0)
    return submission, outcome


def test_operator_key_created_private(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "operator.key"

    first = chains.load_or_create_key(path)
    second = chains.load_or_create_key(path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.address == second.address


def test_threshold_finalizes_root(
    tester_chain: chains.Chain, partner_key: PartnerKey
) -> None:
    accounts = [partner_key(name)[1] for name in ("operator", "bank", "campus")]
    contract = deploy(tester_chain, accounts, threshold=2)

    _sent, first = attest(tester_chain, accounts[1], contract)
    assert first is not None and first.status == 1
    assert chains.attested_events(contract, first.receipt) == (1, False)
    assert not contract.functions.is_final(ROOT, 5).call()

    _sent, second = attest(tester_chain, accounts[2], contract)
    assert second is not None and second.status == 1
    assert chains.attested_events(contract, second.receipt) == (2, True)
    assert contract.functions.is_final(ROOT, 5).call()
    assert contract.functions.latest_final_size().call() == 5
    assert contract.functions.attestations(ROOT, 5).call() == 2


def test_non_partner_attest_reverts(
    tester_chain: chains.Chain, partner_key: PartnerKey
) -> None:
    accounts = [partner_key(name)[1] for name in ("operator", "bank")]
    contract = deploy(tester_chain, accounts, threshold=1)
    outsider = partner_key("outsider")[1]

    submission, outcome = attest(tester_chain, outsider, contract)

    assert outcome is None
    assert submission.reverted
    assert submission.error == "reverted: not a partner"


def test_second_attest_reverts(
    tester_chain: chains.Chain, partner_key: PartnerKey
) -> None:
    accounts = [partner_key(name)[1] for name in ("operator", "bank")]
    contract = deploy(tester_chain, accounts, threshold=2)
    attest(tester_chain, accounts[1], contract)

    submission, _outcome = attest(tester_chain, accounts[1], contract)

    assert submission.error == "reverted: already attested"


def test_conflicting_final_root_reverts(
    tester_chain: chains.Chain, partner_key: PartnerKey
) -> None:
    accounts = [partner_key(name)[1] for name in ("operator", "bank")]
    contract = deploy(tester_chain, accounts, threshold=1)
    attest(tester_chain, accounts[0], contract)
    other = chains.attest_call(contract, b"\x22" * 32, 5)
    chains.fund_for_development(tester_chain, accounts[1].address)

    submission = chains.send_call(tester_chain, accounts[1], other)

    assert submission.error == "reverted: another root is final at this size"


@pytest.mark.parametrize(
    ("threshold", "reason"),
    [
        (0, "threshold must be at least 1"),
        (3, "threshold exceeds the number of partners"),
    ],
)
def test_constructor_rejects_bad_threshold(
    tester_chain: chains.Chain, partner_key: PartnerKey, threshold: int, reason: str
) -> None:
    accounts = [partner_key(name)[1] for name in ("operator", "bank")]
    chains.fund_for_development(tester_chain, accounts[0].address)

    with pytest.raises(chains.ChainError, match=reason):
        chains.deploy_contract(
            tester_chain, accounts[0], [a.address for a in accounts], threshold
        )


def test_mined_revert_stores_reason(
    tester_chain: chains.Chain, partner_key: PartnerKey, seal_block
) -> None:
    block = seal_block(3)
    operator = anchoring.operator_account()
    deployment = anchoring.ensure_deployment(tester_chain, operator)
    anchoring.send_anchor(tester_chain, operator, deployment, block)

    # An explicit gas limit skips the estimate, so the node mines the revert.
    again = Anchor.objects.filter(block=block).first()
    assert again is not None
    anchor = anchoring.send_anchor(
        tester_chain, operator, deployment, block, gas=200_000
    )

    anchor.refresh_from_db()
    assert anchor.status == Anchor.Status.REVERTED
    assert anchor.error == "reverted: already attested"
    assert anchor.chain_block_number is not None


def test_estimate_revert_stores_reason(
    tester_chain: chains.Chain, partner_key: PartnerKey, seal_block
) -> None:
    block = seal_block(2)
    operator = anchoring.operator_account()
    deployment = anchoring.ensure_deployment(tester_chain, operator)
    anchoring.send_anchor(tester_chain, operator, deployment, block)

    anchor = anchoring.send_anchor(tester_chain, operator, deployment, block)

    assert anchor.status == Anchor.Status.FAILED
    assert anchor.error == "reverted: already attested"
    assert anchor.chain_block_number is None


def test_anchor_job_records_receipt(tester_chain: chains.Chain, seal_block) -> None:
    block = seal_block(4)

    anchor = anchoring.anchor_now(tester_chain)

    assert anchor is not None
    anchor.refresh_from_db()
    assert anchor.block == block
    assert anchor.status == Anchor.Status.CONFIRMED
    assert anchor.tx_hash.startswith("0x")
    assert len(anchor.tx_hash) == 66
    assert anchor.chain_block_hash.startswith("0x")
    assert anchor.gas_used and anchor.gas_used > 21_000
    assert anchor.latency_ms is not None
    # Without witnesses the operator is the only partner, so one attestation is final.
    assert anchor.final
    deployment = ChainDeployment.objects.get()
    assert deployment.in_process
    assert deployment.threshold == 1
    assert anchoring.anchor_now(tester_chain) is None


def test_anchor_job_waits_for_witnesses(
    tester_chain: chains.Chain, seal_block, partner_key: PartnerKey
) -> None:
    seal_block(2)
    Witness.objects.create(
        name="bank",
        url="http://127.0.0.1:1/",
        vkey="bank+00000000+AAAA",
        chain_address=partner_key("bank")[1].address,
    )

    assert anchoring.anchor_now(tester_chain) is None
    assert not Anchor.objects.exists()


def test_partner_change_redeploys(
    tester_chain: chains.Chain, seal_block, partner_key: PartnerKey
) -> None:
    operator = anchoring.operator_account()
    first = anchoring.ensure_deployment(tester_chain, operator)
    bank = partner_key("bank")[1]
    Witness.objects.create(
        name="bank",
        url="http://127.0.0.1:1/",
        vkey="bank+1+A",
        chain_address=bank.address,
    )

    second = anchoring.ensure_deployment(tester_chain, operator)

    assert second.pk != first.pk
    assert second.partners == [operator.address, bank.address]
    assert second.threshold == min(settings.KOTACERDAS_ANCHOR_THRESHOLD, 2)
    assert anchoring.ensure_deployment(tester_chain, operator).pk == second.pk


def test_witness_attests_without_operator(
    tester_chain: chains.Chain, seal_block, partner_key: PartnerKey
) -> None:
    block = seal_block(2)
    operator = anchoring.operator_account()
    keys = [partner_key(name) for name in ("bank", "campus")]
    for name, (_path, account) in zip(("bank", "campus"), keys, strict=True):
        Witness.objects.create(
            name=name,
            url="http://127.0.0.1:1/",
            vkey=f"{name}+1+A",
            chain_address=account.address,
        )
    deployment = anchoring.ensure_deployment(tester_chain, operator)
    assert deployment.threshold == 2

    results = [
        attest_checkpoint(
            None, deployment.address, path, bytes(block.root_hash), block.tree_size
        )
        for path, _account in keys
    ]

    assert [result.status for result in results] == ["confirmed", "confirmed"]
    assert [result.final for result in results] == [False, True]
    again = attest_checkpoint(
        None, deployment.address, keys[0][0], bytes(block.root_hash), block.tree_size
    )
    assert again.status == "already attested"


def test_verify_checks_anchors(tester_chain: chains.Chain, seal_block) -> None:
    seal_block(3)
    anchoring.anchor_now(tester_chain)

    [report] = anchoring.extra_checks()

    assert report.checked == 1
    assert report.problems == []
    assert report.unchecked == []


def test_verify_detects_edited_anchor(tester_chain: chains.Chain, seal_block) -> None:
    seal_block(3)
    anchor = anchoring.anchor_now(tester_chain)
    assert anchor is not None
    other = seal_block(2)
    Anchor.objects.filter(pk=anchor.pk).update(block=other)

    [report] = anchoring.extra_checks()

    assert "does not attest block" in report.problems[0]
    assert "recorded final, but the root is not final" in report.problems[1]


def test_verify_detects_edited_chain_block(
    tester_chain: chains.Chain, seal_block
) -> None:
    seal_block(3)
    anchor = anchoring.anchor_now(tester_chain)
    assert anchor is not None
    Anchor.objects.filter(pk=anchor.pk).update(chain_block_hash="0x" + "ab" * 32)

    [report] = anchoring.extra_checks()

    assert len(report.problems) == 1
    assert "mined in chain block" in report.problems[0]


def test_verify_reports_other_process_chain(
    tester_chain: chains.Chain, seal_block
) -> None:
    seal_block(3)
    anchoring.anchor_now(tester_chain)
    chains._in_process = chains.new_in_process_chain()

    [report] = anchoring.extra_checks()

    assert report.checked == 0
    assert len(report.unchecked) == 1
    assert "in-process chain of another process" in report.unchecked[0]


def test_ledger_anchor_command_prints_tx(
    tester_chain: chains.Chain, seal_block
) -> None:
    block: Block = seal_block(2)
    output = StringIO()

    call_command("ledger", "anchor", stdout=output)

    anchor = Anchor.objects.get()
    assert f"block {block.height} at tree size {block.tree_size}" in output.getvalue()
    assert anchor.tx_hash in output.getvalue()
    assert "confirmed final" in output.getvalue()


def test_ledger_chain_command_prints_contract(tester_chain: chains.Chain, db) -> None:
    output = StringIO()

    call_command("ledger", "chain", stdout=output)

    deployment = ChainDeployment.objects.get()
    text = output.getvalue()
    assert "chain: in-process" in text
    assert f"contract: {deployment.address}" in text
    assert f"operator: {anchoring.operator_account().address}" in text


def test_ledger_page_shows_anchor(
    tester_chain: chains.Chain, seal_block, client
) -> None:
    seal_block(2)
    anchor = anchoring.anchor_now(tester_chain)
    assert anchor is not None

    page = client.get("/ledger/").content.decode()

    assert anchor.tx_hash in page
    assert ChainDeployment.objects.get().address in page
    assert 'data-testid="chain-in-process"' in page
