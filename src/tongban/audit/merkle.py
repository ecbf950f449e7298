"""RFC 6962 Merkle tree hashing and proofs — pure functions, no I/O.

Leaves are hashed as SHA-256(0x00 ‖ data), interior nodes as SHA-256(0x01 ‖ left ‖ right);
the tree over n leaves splits at the largest power of two below n (RFC 6962 §2.1).

``leaves`` below are always *leaf hashes* (what the log stores), not entry bytes.
A proof is a list of subtree roots; which subtrees is fixed by the sizes alone
(``inclusion_ranges`` / ``consistency_ranges``), so a caller holding a million
leaves in a database can stream them once through ``range_roots`` instead of
loading them into memory. Verification follows RFC 9162 §2.1.3.2 and §2.1.4.2.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()
HASH_BYTES = 32

Range = tuple[int, int]  # leaf indices [start, end)


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


# -- the compact range (frontier) --------------------------------------------------


def append_leaf(frontier: list[bytes], size: int, leaf: bytes) -> None:
    """Add a leaf to the compact range of a tree of ``size`` leaves (in place).

    The frontier holds the roots of the perfect subtrees the tree splits into,
    largest first — one per set bit of ``size``.
    """
    node = leaf
    while size & 1:
        node = node_hash(frontier.pop(), node)
        size >>= 1
    frontier.append(node)


def root_from_frontier(frontier: list[bytes]) -> bytes:
    if not frontier:
        return EMPTY_ROOT
    root = frontier[-1]
    for left in reversed(frontier[:-1]):
        root = node_hash(left, root)
    return root


def root(leaves: Iterable[bytes]) -> bytes:
    """MTH(D[n]): the root of the tree over ``leaves`` (streams; memory O(log n))."""
    frontier: list[bytes] = []
    for size, leaf in enumerate(leaves):
        append_leaf(frontier, size, leaf)
    return root_from_frontier(frontier)


# -- which subtrees a proof is made of ---------------------------------------------


def _split(size: int) -> int:
    """The largest power of two strictly below ``size`` (size >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The subtrees of PATH(index, D[size]) (RFC 6962 §2.1.1), deepest first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    ranges: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index - start < k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def consistency_ranges(first: int, second: int) -> list[Range]:
    """The subtrees of PROOF(first, D[second]) (RFC 6962 §2.1.2), in proof order."""
    if not 0 <= first <= second:
        raise ValueError(f"no consistency proof from {first} to {second} leaves")
    if first in (0, second):
        return []
    ranges: list[Range] = []
    start, end, m, whole = 0, second, first, True
    # SUBPROOF(m, D[start:end], whole), unrolled: each step adds one sibling subtree.
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, m, whole = start + k, m - k, False
    if not whole:
        ranges.append((start, end))
    ranges.reverse()
    return ranges


def range_roots(ranges: Sequence[Range], leaves: Iterable[bytes]) -> list[bytes]:
    """MTH of each (disjoint) range, reading ``leaves`` once from index 0, in range order."""
    order = sorted(range(len(ranges)), key=lambda i: ranges[i][0])
    roots: list[bytes] = [b""] * len(ranges)
    if not order:
        return roots
    pending = iter(order)
    current = next(pending)
    frontier: list[bytes] = []
    for index, leaf in enumerate(leaves):
        start, end = ranges[current]
        if index < start:
            continue
        append_leaf(frontier, index - start, leaf)
        if index + 1 == end:
            roots[current] = root_from_frontier(frontier)
            frontier = []
            following = next(pending, None)
            if following is None:
                return roots
            current = following
    raise ValueError("fewer leaves than the proof needs")


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    return range_roots(inclusion_ranges(index, len(leaves)), leaves)


def consistency_proof(first: int, leaves: Sequence[bytes]) -> list[bytes]:
    """Proof that the tree over ``leaves[:first]`` is a prefix of the tree over ``leaves``."""
    return range_roots(consistency_ranges(first, len(leaves)), leaves)


# -- verification ------------------------------------------------------------------


def _well_formed(*hashes: bytes) -> bool:
    return all(len(h) == HASH_BYTES for h in hashes)


def root_from_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes | None:
    """The root that ``proof`` leads to from ``leaf`` at ``index``, or None if malformed."""
    if not 0 <= index < size or not _well_formed(leaf, *proof):
        return None
    fn, sn, node = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            node = node_hash(sibling, node)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            node = node_hash(node, sibling)
        fn >>= 1
        sn >>= 1
    return node if sn == 0 else None


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root_hash: bytes
) -> bool:
    computed = root_from_inclusion(leaf, index, size, proof)
    return computed is not None and hmac.compare_digest(computed, root_hash)


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    if not 0 <= first <= second or not _well_formed(*proof):
        return False
    if first == second:
        return not proof and hmac.compare_digest(first_root, second_root)
    if first == 0:
        return not proof
    if not proof or not _well_formed(first_root, second_root):
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # a power of two: the old root is itself a node
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    old = new = path[0]
    for node in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            old = node_hash(node, old)
            new = node_hash(node, new)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            new = node_hash(new, node)
        fn >>= 1
        sn >>= 1
    return (
        sn == 0 and hmac.compare_digest(old, first_root) and hmac.compare_digest(new, second_root)
    )
