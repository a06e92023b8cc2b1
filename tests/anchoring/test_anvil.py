"""Anchoring against a real anvil node on 127.0.0.1, started by each test."""

import time
from collections.abc import Callable
from io import StringIO
from pathlib import Path

from django.core.management import call_command
from eth_account.signers.local import LocalAccount

from kotacerdas.journal import anchoring
from kotacerdas.journal import chain as chains
from kotacerdas.journal.models import Anchor, ChainDeployment, Witness
from kotacerdas.witness.attest import attest_checkpoint

PartnerKey = Callable[[str], tuple[Path, LocalAccount]]


def test_anvil_anchor_job_end_to_end(anvil_node, seal_block, settings) -> None:
    settings.KOTACERDAS_CHAIN_URL = anvil_node()
    block = seal_block(3)

    anchor = anchoring.anchor_now()

    assert anchor is not None
    anchor.refresh_from_db()
    assert anchor.block == block
    assert anchor.status == Anchor.Status.CONFIRMED
    assert anchor.final
    deployment = ChainDeployment.objects.get()
    assert deployment.chain_id == chains.ANVIL_CHAIN_ID
    assert not deployment.in_process
    output = StringIO()
    call_command("ledger", "verify", "--no-record", stdout=output)
    assert "chain anchors: 1 checked, 0 problems, 0 not checked" in output.getvalue()
    assert "ledger valid" in output.getvalue()


def test_anvil_state_survives_restart(anvil_node, seal_block, settings) -> None:
    settings.KOTACERDAS_CHAIN_URL = anvil_node()
    seal_block(2)
    first = anchoring.anchor_now()
    assert first is not None

    settings.KOTACERDAS_CHAIN_URL = anvil_node()
    seal_block(2)
    second = anchoring.anchor_now()

    assert second is not None
    assert ChainDeployment.objects.count() == 1
    assert second.deployment_id == first.deployment_id
    assert second.nonce == first.nonce + 1
    [report] = anchoring.extra_checks()
    assert report.checked == 2
    assert report.problems == []


def test_anvil_new_block_0_keeps_contract(
    anvil_node, seal_block, settings, monkeypatch
) -> None:
    settings.KOTACERDAS_CHAIN_URL = anvil_node()
    seal_block(2)
    first = anchoring.anchor_now()
    assert first is not None
    # Let anvil write its state, then kill it.
    time.sleep(chains.ANVIL_STATE_INTERVAL_S + 1.5)

    settings.KOTACERDAS_CHAIN_URL = anvil_node(crash_previous=True)
    # A restarted anvil 1.7.1 sometimes makes a new block 0 and keeps the
    # blocks after it. Act as if it did, because it does not happen every time.
    monkeypatch.setattr(chains.Chain, "genesis_hash", lambda chain: "0x" + "ee" * 32)
    seal_block(2)
    second = anchoring.anchor_now()

    assert second is not None
    assert ChainDeployment.objects.count() == 1, "the same contract is used"
    assert second.deployment_id == first.deployment_id
    [report] = anchoring.extra_checks()
    assert (report.checked, report.problems, report.unchecked) == (2, [], [])


def test_anvil_recorded_url_is_used(anvil_node, settings) -> None:
    url = anvil_node()
    settings.KOTACERDAS_CHAIN_URL = ""
    record = chains.anvil_record_path()
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(f'{{"url": "{url}"}}\n')
    try:
        chain = chains.connect(allow_in_process=False)
    finally:
        record.unlink()

    assert chain.kind == chains.KIND_ANVIL
    assert chain.url == url


def test_anvil_two_witnesses_finalize(
    anvil_node, seal_block, settings, partner_key: PartnerKey
) -> None:
    url = anvil_node()
    settings.KOTACERDAS_CHAIN_URL = url
    block = seal_block(2)
    keys = {name: partner_key(name) for name in ("bank", "campus")}
    for name, (_path, account) in keys.items():
        Witness.objects.create(
            name=name,
            url="http://127.0.0.1:1/",
            vkey=f"{name}+1+A",
            chain_address=account.address,
        )
    deployment = anchoring.ensure_deployment(
        chains.connect(), anchoring.operator_account()
    )
    root, size = bytes(block.root_hash), block.tree_size

    results = [
        attest_checkpoint(url, deployment.address, path, root, size)
        for path, _account in keys.values()
    ]

    assert [result.status for result in results] == ["confirmed", "confirmed"]
    assert [result.attestations for result in results] == [1, 2]
    assert results[1].final
    contract = chains.connect().contract(deployment.address)
    assert contract.functions.latest_final_size().call() == size
    assert not Anchor.objects.exists()


def test_anvil_mined_revert_stores_reason(anvil_node, seal_block, settings) -> None:
    settings.KOTACERDAS_CHAIN_URL = anvil_node()
    block = seal_block(2)
    chain = chains.connect()
    operator = anchoring.operator_account()
    deployment = anchoring.ensure_deployment(chain, operator)
    anchoring.send_anchor(chain, operator, deployment, block)

    again = anchoring.send_anchor(chain, operator, deployment, block, gas=200_000)
    estimated = anchoring.send_anchor(chain, operator, deployment, block)

    again.refresh_from_db()
    assert again.status == Anchor.Status.REVERTED
    assert again.error == "reverted: already attested"
    assert estimated.status == Anchor.Status.FAILED
    assert estimated.error == "reverted: already attested"
