"""Merkle tree arithmetic in the RFC 9162 (Certificate Transparency v2) form.

Leaf hash = SHA-256(0x00 || entry), node hash = SHA-256(0x01 || left || right).
A tree of n leaves splits at k, the largest power of two below n, so every left
subtree is perfect. Every range a proof touches is therefore either a perfect
subtree aligned on its size or the right edge of the tree. That lets the store keep only
perfect subtrees (level, index) and compute any proof from O(log n) of them.
"""

import hashlib
from collections.abc import Callable, Iterable

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(size: int) -> int:
    """Return the largest power of two strictly below `size` (size >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def is_perfect(size: int) -> bool:
    return size > 0 and size & (size - 1) == 0


def node_key(level: int, index: int) -> int:
    """Pack a perfect subtree's position into one integer primary key."""
    return (level << 48) | index


def perfect_ranges(start: int, end: int) -> list[tuple[int, int]]:
    """Return the (level, index) of the perfect subtrees whose hashes MTH(start, end) needs."""
    needed: list[tuple[int, int]] = []
    while True:
        size = end - start
        if is_perfect(size):
            level = size.bit_length() - 1
            needed.append((level, start >> level))
            return needed
        k = split_point(size)
        needed.append(((k.bit_length() - 1), start >> (k.bit_length() - 1)))
        start += k


SubtreeHash = Callable[[int, int], bytes]


def make_subtree_hash(perfect: Callable[[int, int], bytes]) -> SubtreeHash:
    """Build MTH(start, end) from a lookup of perfect subtrees by (level, index)."""

    def subtree_hash(start: int, end: int) -> bytes:
        size = end - start
        if is_perfect(size):
            level = size.bit_length() - 1
            return perfect(level, start >> level)
        k = split_point(size)
        return node_hash(subtree_hash(start, start + k), subtree_hash(start + k, end))

    return subtree_hash


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """Return the leaf ranges whose hashes form the inclusion proof, leaf first."""
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """Return the leaf ranges of the RFC 9162 consistency proof, in proof order."""
    if old_size <= 0 or old_size >= new_size:
        return []

    def subproof(start: int, end: int, complete: bool) -> list[tuple[int, int]]:
        # `complete` is RFC 9162's b: the old tree is exactly this subtree's left edge.
        if old_size == end:
            return [] if complete else [(start, end)]
        k = split_point(end - start)
        if old_size - start <= k:
            return [*subproof(start, start + k, complete), (start + k, end)]
        return [*subproof(start + k, end, False), (start, start + k)]

    return subproof(0, new_size, True)


def inclusion_proof(index: int, size: int, subtree_hash: SubtreeHash) -> list[bytes]:
    return [subtree_hash(start, end) for start, end in inclusion_ranges(index, size)]


def consistency_proof(
    old_size: int, new_size: int, subtree_hash: SubtreeHash
) -> list[bytes]:
    return [
        subtree_hash(start, end)
        for start, end in consistency_ranges(old_size, new_size)
    ]


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes
) -> bool:
    """Check an inclusion proof with the algorithm of RFC 9162 section 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> bool:
    """Check a consistency proof with the algorithm of RFC 9162 section 2.1.4.2."""
    if old_size == new_size:
        return old_root == new_root and not proof
    if old_size == 0 or old_size > new_size or not proof:
        return False
    path = list(proof)
    if is_perfect(old_size):
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


class CompactRange:
    """The perfect subtree roots covering leaves [0, size), largest first.

    Appending a leaf merges equal-sized subtrees like binary addition carries;
    every merge produces a new stored node, reported through `on_node`.
    """

    def __init__(self, size: int = 0, roots: Iterable[bytes] = ()) -> None:
        self.size = size
        self.roots = list(roots)
        if len(self.roots) != size.bit_count():
            raise ValueError(
                f"a compact range of size {size} needs {size.bit_count()} roots, "
                f"got {len(self.roots)}"
            )

    def append(self, leaf: bytes, on_node: Callable[[int, int, bytes], None]) -> None:
        index = self.size
        on_node(0, index, leaf)
        value, level = leaf, 0
        while index & 1:
            value = node_hash(self.roots.pop(), value)
            index >>= 1
            level += 1
            on_node(level, index, value)
        self.roots.append(value)
        self.size += 1

    def root(self) -> bytes:
        if not self.roots:
            return EMPTY_ROOT
        value = self.roots[-1]
        for left in reversed(self.roots[:-1]):
            value = node_hash(left, value)
        return value


def compact_range_keys(size: int) -> list[tuple[int, int]]:
    """Return the (level, index) of the perfect subtrees a CompactRange of `size` holds."""
    keys: list[tuple[int, int]] = []
    start = 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size & (1 << level):
            keys.append((level, start >> level))
            start += 1 << level
    return keys
