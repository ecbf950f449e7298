"""RFC 6962 tree hashing and proofs, against the Certificate Transparency test vectors.

The vectors are those of the transparency-dev/merkle Go module (testonly/constants.go
and proof/verify_test.go), the maintained successor of the CT Go and C++ code: eight
leaves, the tree root at every size, and inclusion and consistency proofs. Beyond
them, every proof for every size up to 64 is checked against a literal transcription
of RFC 6962 §2.1 and must fail when tampered with.
"""

from __future__ import annotations

import pytest

from tongban.audit import merkle

LEAF_INPUTS = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
LEAF_HASHES = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
    "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
]
ROOTS = [  # by tree size 0..8
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (leaf index, tree size, proof); the Go vectors count leaves from 1, these from 0.
INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]
LEAVES = [merkle.leaf_hash(data) for data in LEAF_INPUTS]


def _hashes(hexes: list[str]) -> list[bytes]:
    return [bytes.fromhex(h) for h in hexes]


# -- RFC 6962 §2.1, transcribed literally (slices and recursion) --------------------


def rfc_mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return merkle.EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return merkle.node_hash(rfc_mth(leaves[:k]), rfc_mth(leaves[k:]))


def rfc_path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*rfc_path(m, leaves[:k]), rfc_mth(leaves[k:])]
    return [*rfc_path(m - k, leaves[k:]), rfc_mth(leaves[:k])]


def rfc_subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if whole else [rfc_mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*rfc_subproof(m, leaves[:k], whole), rfc_mth(leaves[k:])]
    return [*rfc_subproof(m - k, leaves[k:], False), rfc_mth(leaves[:k])]


# -- published vectors ------------------------------------------------------------


def test_leaf_hashes_match_the_vectors() -> None:
    assert [h.hex() for h in LEAVES] == LEAF_HASHES


@pytest.mark.parametrize("size", range(9))
def test_roots_match_the_vectors(size: int) -> None:
    assert merkle.root(LEAVES[:size]).hex() == ROOTS[size]
    frontier: list[bytes] = []
    for i, leaf in enumerate(LEAVES[:size]):
        merkle.append_leaf(frontier, i, leaf)
    assert merkle.root_from_frontier(frontier).hex() == ROOTS[size]
    assert len(frontier) == bin(size).count("1")


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_inclusion_proofs_match_the_vectors(index: int, size: int, proof: list[str]) -> None:
    expected = _hashes(proof)
    assert merkle.inclusion_proof(index, LEAVES[:size]) == expected
    root = bytes.fromhex(ROOTS[size])
    assert merkle.verify_inclusion(LEAVES[index], index, size, expected, root)


@pytest.mark.parametrize(("first", "second", "proof"), CONSISTENCY)
def test_consistency_proofs_match_the_vectors(first: int, second: int, proof: list[str]) -> None:
    expected = _hashes(proof)
    assert merkle.consistency_proof(first, LEAVES[:second]) == expected
    old, new = bytes.fromhex(ROOTS[first]), bytes.fromhex(ROOTS[second])
    assert merkle.verify_consistency(first, second, old, new, expected)


def test_edge_cases_of_consistency() -> None:
    some, other = merkle.leaf_hash(b"a"), merkle.leaf_hash(b"b")
    assert merkle.verify_consistency(0, 0, some, some, [])
    assert merkle.verify_consistency(0, 5, some, other, [])  # the empty tree fits any tree
    assert not merkle.verify_consistency(1, 1, some, other, [])
    assert not merkle.verify_consistency(2, 1, some, other, [])  # time travel
    assert not merkle.verify_consistency(1, 2, some, other, [])  # empty proof
    assert not merkle.verify_consistency(1, 1, some, some, [some])  # proof must be empty


def test_edge_cases_of_inclusion() -> None:
    leaf = merkle.leaf_hash(b"data")
    assert merkle.verify_inclusion(leaf, 0, 1, [], leaf)
    assert not merkle.verify_inclusion(leaf, 0, 0, [], merkle.EMPTY_ROOT)
    assert not merkle.verify_inclusion(leaf, 1, 1, [], leaf)
    assert not merkle.verify_inclusion(b"", 0, 1, [], b"")  # wrong hash length
    with pytest.raises(ValueError):
        merkle.inclusion_proof(3, LEAVES[:3])


# -- every size up to 64 ----------------------------------------------------------

SIZES = range(1, 65)
DATA = [merkle.leaf_hash(f"entry {i}".encode()) for i in range(64)]


def _tampered(proof: list[bytes]) -> list[list[bytes]]:
    variants: list[list[bytes]] = []
    for i in range(len(proof)):
        flipped = list(proof)
        flipped[i] = bytes([proof[i][0] ^ 8]) + proof[i][1:]
        variants.append(flipped)
    if proof:
        variants.append(proof[:-1])
        variants.append([proof[0], *proof])
    variants.append([*proof, DATA[0]])
    variants.append([*proof, b""])
    return variants


@pytest.mark.parametrize("size", SIZES)
def test_every_inclusion_proof_verifies_and_every_tampered_one_fails(size: int) -> None:
    leaves = DATA[:size]
    root = merkle.root(leaves)
    assert root == rfc_mth(leaves)
    for index in range(size):
        proof = merkle.inclusion_proof(index, leaves)
        assert proof == rfc_path(index, leaves)
        assert merkle.verify_inclusion(leaves[index], index, size, proof, root)
        for bad in _tampered(proof):
            assert not merkle.verify_inclusion(leaves[index], index, size, bad, root)
        other = DATA[(index + 1) % 64] if size < 64 else merkle.leaf_hash(b"x")
        assert not merkle.verify_inclusion(other, index, size, proof, root)
        # (the size is not bound by the proof but by the signed checkpoint holding the root)
        for wrong_index in {index ^ 1, index + 1, index - 1} - {index}:
            if 0 <= wrong_index < size:
                assert not merkle.verify_inclusion(leaves[index], wrong_index, size, proof, root)


@pytest.mark.parametrize("second", SIZES)
def test_every_consistency_proof_verifies_and_every_tampered_one_fails(second: int) -> None:
    leaves = DATA[:second]
    new = merkle.root(leaves)
    for first in range(1, second + 1):
        old = merkle.root(leaves[:first])
        proof = merkle.consistency_proof(first, leaves)
        assert proof == rfc_subproof(first, leaves, True)
        assert merkle.verify_consistency(first, second, old, new, proof)
        if first == second:
            continue
        for bad in _tampered(proof):
            assert not merkle.verify_consistency(first, second, old, new, bad)
        assert not merkle.verify_consistency(first, second, new, old, proof)
        assert not merkle.verify_consistency(first, second, old, DATA[0], proof)
        if first > 1:
            assert not merkle.verify_consistency(first - 1, second, old, new, proof)


def test_range_roots_stream_the_leaves_once() -> None:
    reads: list[int] = []

    def stream():  # type: ignore[no-untyped-def]
        for i, leaf in enumerate(DATA):
            reads.append(i)
            yield leaf

    ranges = merkle.inclusion_ranges(37, 64)
    assert merkle.range_roots(ranges, stream()) == merkle.inclusion_proof(37, DATA)
    assert reads == list(range(64))
    with pytest.raises(ValueError):
        merkle.range_roots([(0, 10)], iter(DATA[:5]))
