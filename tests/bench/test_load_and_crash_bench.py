"""The load and crash benchmarks' own parts: loopback guard, statistics, tallies.

The runs themselves start servers and take minutes; tests/faults runs the
crash run at small size. These check the pieces a benchmark's figures and
checks depend on.
"""

import os
import random
import sys
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from crash_run import Killer, Tally
from live_city import FUNDING_RUPIAH
from load import check_loopback, percentile, process_tree, rss_kib


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8123", "http://localhost:9000/", "http://[::1]:8001"]
)
def test_loopback_url_accepted(url):
    check_loopback(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.5:8000",
        "http://example.com",
        "http://127.0.0.1.example.com:8000",
        "https://kota.example/",
    ],
)
def test_other_host_rejected(url):
    with pytest.raises(SystemExit, match="not on this machine"):
        check_loopback(url)


@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=300))
def test_percentile_within_sample(values):
    ordered = sorted(values)

    p50, p99 = percentile(values, 0.5), percentile(values, 0.99)

    assert p50 in values
    assert ordered[0] <= p50 <= p99 <= ordered[-1]


def test_percentile_of_hundred_values():
    values = [float(n) for n in range(1, 101)]

    assert percentile(values, 0.5) == 51.0
    assert percentile(values, 0.99) == 100.0


def test_memory_read_from_proc():
    tree = process_tree(os.getppid())

    assert os.getpid() in tree
    assert rss_kib(os.getpid()) > 1024


def test_tally_expects_funding_plus_cash_in():
    tally = Tally()
    tally.transfers = {"pay-c0-n1": "TRX-A", "cash-c0-n2": "TRX-B"}
    tally.rejected_transfers = {"pay-c1-n1": "exceeds_balance"}
    tally.cash_in_rupiah = 1_500

    acks = tally.acks(citizens=3)

    assert acks["expected_held_total"] == 3 * FUNDING_RUPIAH + 1_500
    assert acks["transfers"] == {"pay-c0-n1": "TRX-A", "cash-c0-n2": "TRX-B"}
    assert acks["rejected_transfers"] == ["pay-c1-n1"]
    assert tally.transfer_count == 3


@given(st.integers(0, 10**6))
def test_killer_kills_both_often(seed):
    killer = Killer(deployment=None, rng=random.Random(seed), kills_target=20)  # type: ignore[arg-type]
    kills: Counter[str] = Counter()

    while sum(kills.values()) < 20:
        kills.update(killer.next_targets())

    assert kills["web"] >= 5
    assert kills["worker"] >= 5
