"""RFC 9162 tree hashes and proofs against hand-computed trees and random ones.

The expected hashes here are written out with hashlib, one tree shape per size,
so they do not share code with `journal.merkle`.
"""

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kotacerdas.journal import merkle


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def leaf(index: int) -> bytes:
    return sha256(b"\x00" + f"entry {index}".encode())


def node(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right)


# The leaf hashes of entries 0-7 are a, b, c, d, e, f, j and leaf7. Inner nodes:
# g = (a, b), h = (c, d), i = (e, f), node67 = (j, leaf7), k = (g, h).
a, b, c, d, e, f, j, leaf7 = (leaf(i) for i in range(8))
g, h, i, node67 = node(a, b), node(c, d), node(e, f), node(j, leaf7)
k = node(g, h)

EXPECTED_ROOTS = {
    1: a,
    2: g,
    3: node(g, c),
    4: k,
    5: node(k, e),
    6: node(k, i),
    7: node(k, node(i, j)),
    8: node(k, node(i, node67)),
}


def build_tree(size: int) -> tuple[merkle.CompactRange, dict[tuple[int, int], bytes]]:
    nodes: dict[tuple[int, int], bytes] = {}

    def keep(level: int, index: int, value: bytes) -> None:
        nodes[(level, index)] = value

    tree = merkle.CompactRange()
    for index in range(size):
        tree.append(merkle.leaf_hash(f"entry {index}".encode()), keep)
    return tree, nodes


def subtree_hasher(size: int) -> merkle.SubtreeHash:
    _, nodes = build_tree(size)
    return merkle.make_subtree_hash(lambda level, index: nodes[(level, index)])


def reference_root(leaves: list[bytes]) -> bytes:
    """Compute MTH straight from the RFC 9162 definition, without stored nodes."""
    if len(leaves) == 1:
        return leaves[0]
    split = 1
    while split * 2 < len(leaves):
        split *= 2
    return node(reference_root(leaves[:split]), reference_root(leaves[split:]))


def test_empty_tree_root_is_known() -> None:
    expected = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    assert merkle.EMPTY_ROOT.hex() == expected, "empty root should be SHA-256('')"
    assert merkle.CompactRange().root() == merkle.EMPTY_ROOT, "empty range root"


def test_leaf_hash_uses_zero_prefix() -> None:
    assert merkle.leaf_hash(b"entry 0") == a, "leaf hash should be H(0x00 || entry)"


@pytest.mark.parametrize("size", sorted(EXPECTED_ROOTS))
def test_root_matches_hand_computed(size: int) -> None:
    tree, _ = build_tree(size)

    assert tree.root() == EXPECTED_ROOTS[size], f"root of size {size} differs"


@pytest.mark.parametrize("size", sorted(EXPECTED_ROOTS))
def test_subtree_hash_matches_root(size: int) -> None:
    subtree_hash = subtree_hasher(size)

    assert subtree_hash(0, size) == EXPECTED_ROOTS[size], f"MTH(0, {size}) differs"


@pytest.mark.parametrize(
    ("index", "size", "expected"),
    [
        (0, 1, []),
        (1, 7, [a, h, node(i, j)]),
        (3, 7, [c, g, node(i, j)]),
        (4, 7, [f, j, k]),
        (6, 7, [i, k]),
        (2, 3, [g]),
        (7, 8, [j, i, k]),
        (4, 5, [k]),
    ],
)
def test_inclusion_proof_vectors(index: int, size: int, expected: list[bytes]) -> None:
    proof = merkle.inclusion_proof(index, size, subtree_hasher(size))
    leaf_value = leaf(index)

    assert proof == expected, f"inclusion proof of {index} in {size} differs"
    assert merkle.verify_inclusion(
        leaf_value, index, size, proof, EXPECTED_ROOTS[size]
    ), f"inclusion proof of {index} in {size} was rejected"


@pytest.mark.parametrize(
    ("old_size", "new_size", "expected"),
    [
        (3, 7, [c, d, g, node(i, j)]),
        (4, 7, [node(i, j)]),
        (6, 7, [i, j, k]),
        (1, 2, [b]),
        (2, 5, [h, e]),
        (5, 8, [e, f, node67, k]),
        (7, 8, [j, leaf7, i, k]),
    ],
)
def test_consistency_proof_vectors(
    old_size: int, new_size: int, expected: list[bytes]
) -> None:
    proof = merkle.consistency_proof(old_size, new_size, subtree_hasher(new_size))
    old_root, new_root = EXPECTED_ROOTS[old_size], EXPECTED_ROOTS[new_size]

    assert proof == expected, f"consistency proof {old_size}->{new_size} differs"
    assert merkle.verify_consistency(old_size, new_size, old_root, new_root, proof), (
        f"consistency proof {old_size}->{new_size} was rejected"
    )


def test_inclusion_rejects_wrong_leaf() -> None:
    proof = merkle.inclusion_proof(3, 7, subtree_hasher(7))

    accepted = merkle.verify_inclusion(leaf(4), 3, 7, proof, EXPECTED_ROOTS[7])

    assert not accepted, "a proof for entry 3 must not accept entry 4's leaf"


def test_consistency_rejects_wrong_root() -> None:
    proof = merkle.consistency_proof(3, 7, subtree_hasher(7))

    accepted = merkle.verify_consistency(
        3, 7, EXPECTED_ROOTS[4], EXPECTED_ROOTS[7], proof
    )

    assert not accepted, "a proof from size 3 must not accept the root of size 4"


def test_compact_range_rejects_bad_roots() -> None:
    with pytest.raises(ValueError, match="size 5 needs 2 roots, got 1"):
        merkle.CompactRange(5, [a])


@st.composite
def sizes_and_index(draw: st.DrawFn) -> tuple[int, int]:
    size = draw(st.integers(min_value=1, max_value=600))
    return size, draw(st.integers(min_value=0, max_value=size - 1))


@st.composite
def old_and_new_sizes(draw: st.DrawFn) -> tuple[int, int]:
    new_size = draw(st.integers(min_value=1, max_value=600))
    return draw(st.integers(min_value=1, max_value=new_size)), new_size


@settings(max_examples=150, deadline=None)
@given(sizes_and_index())
def test_inclusion_proofs_verify(case: tuple[int, int]) -> None:
    size, index = case
    tree, nodes = build_tree(size)
    subtree_hash = merkle.make_subtree_hash(lambda level, at: nodes[(level, at)])
    leaves = [nodes[(0, position)] for position in range(size)]

    proof = merkle.inclusion_proof(index, size, subtree_hash)

    assert tree.root() == reference_root(leaves), f"root of size {size} differs"
    assert merkle.verify_inclusion(leaves[index], index, size, proof, tree.root()), (
        f"inclusion proof of {index} in {size} was rejected"
    )
    assert len(proof) <= size.bit_length(), "proof is longer than log2(size) + 1"


@settings(max_examples=150, deadline=None)
@given(sizes_and_index(), st.integers(min_value=0, max_value=255))
def test_altered_inclusion_proofs_fail(case: tuple[int, int], flip: int) -> None:
    size, index = case
    tree, nodes = build_tree(size)
    subtree_hash = merkle.make_subtree_hash(lambda level, at: nodes[(level, at)])
    proof = merkle.inclusion_proof(index, size, subtree_hash)
    if not proof:
        return
    altered = list(proof)
    position = flip % len(altered)
    altered[position] = bytes([altered[position][0] ^ 1]) + altered[position][1:]

    accepted = merkle.verify_inclusion(
        nodes[(0, index)], index, size, altered, tree.root()
    )

    assert not accepted, f"altered hash {position} of the proof was accepted"


@settings(max_examples=150, deadline=None)
@given(old_and_new_sizes())
def test_consistency_proofs_verify(case: tuple[int, int]) -> None:
    old_size, new_size = case
    new_tree, nodes = build_tree(new_size)
    old_tree, _ = build_tree(old_size)
    subtree_hash = merkle.make_subtree_hash(lambda level, at: nodes[(level, at)])

    proof = merkle.consistency_proof(old_size, new_size, subtree_hash)
    accepted = merkle.verify_consistency(
        old_size, new_size, old_tree.root(), new_tree.root(), proof
    )

    assert accepted, f"consistency proof {old_size}->{new_size} was rejected"


@settings(max_examples=100, deadline=None)
@given(old_and_new_sizes())
def test_forked_history_fails_consistency(case: tuple[int, int]) -> None:
    old_size, new_size = case
    new_tree, nodes = build_tree(new_size)
    subtree_hash = merkle.make_subtree_hash(lambda level, at: nodes[(level, at)])
    # A different old tree: the same size, but its first entry was rewritten.
    forked = merkle.CompactRange()
    forked.append(merkle.leaf_hash(b"rewritten"), lambda *_: None)
    for index in range(1, old_size):
        forked.append(merkle.leaf_hash(f"entry {index}".encode()), lambda *_: None)

    proof = merkle.consistency_proof(old_size, new_size, subtree_hash)
    accepted = merkle.verify_consistency(
        old_size, new_size, forked.root(), new_tree.root(), proof
    )

    assert not accepted, f"a forked tree of size {old_size} was accepted"
