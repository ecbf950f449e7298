"""Inclusion and consistency proofs from the stored leaf hashes, checked against signed roots.

An inclusion proof shows that one entry, as it reads today, is leaf ``seq`` of the
tree a checkpoint signed; a consistency proof shows that the tree signed at one
size is a prefix of the tree signed at a later size (nothing was rewritten in
between). Leaves are streamed from the database once, so proofs over a large log
need little memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy.orm import Session

from tongban.audit import checkpoints, merkle, queue, repository, service, signing
from tongban.audit.checkpoints import Checkpoint
from tongban.config import get_settings
from tongban.errors import Conflict, Invalid, NotFound


@dataclass(frozen=True)
class TreeRoot:
    tree_size: int
    root_hash: str
    checkpoint: Checkpoint | None  # None: computed from the stored leaves, not signed
    signature_ok: bool

    @property
    def signed(self) -> bool:
        return self.checkpoint is not None and self.signature_ok


@dataclass(frozen=True)
class InclusionProof:
    seq: int
    leaf_hash: str  # recomputed from the entry as it reads now
    path: list[str]
    root: TreeRoot
    valid: bool  # the path leads from the leaf to the root


@dataclass(frozen=True)
class ConsistencyProof:
    path: list[str]
    first: TreeRoot
    second: TreeRoot
    valid: bool


def _leaves(session: Session, up_to: int) -> Iterator[bytes]:
    return (bytes.fromhex(h) for h in repository.stream_leaf_hashes(session, up_to))


def _tree_size(session: Session) -> int:
    head = repository.head(session)
    return head.tree_size if head else 0


def _signed_checkpoint(session: Session, size: int) -> Checkpoint | None:
    """The database's checkpoint at ``size``, else the witness file's for this log."""
    row = repository.checkpoint_at(session, size)
    origin = checkpoints.origin(session)
    if row is not None:
        return Checkpoint.from_row(row, origin)
    for candidate in checkpoints.read_witness().of(origin):
        if candidate.tree_size == size:
            return candidate
    return None


def _root(session: Session, size: int) -> TreeRoot:
    checkpoint = _signed_checkpoint(session, size)
    if checkpoint is not None:
        problem = checkpoints.signature_problem(checkpoint, signing.signing_keys())
        return TreeRoot(size, checkpoint.root_hash, checkpoint, problem is None)
    computed = merkle.root(_leaves(session, size))
    return TreeRoot(size, computed.hex(), None, False)


def _bad_size(size: int, low: int, high: int) -> Invalid:
    return Invalid(
        "audit_bad_tree_size",
        f"树规模 {size} 无效：应在 {low} 到 {high} 之间。",
        f"Tree size {size} is not valid: it must be between {low} and {high}.",
        details={"size": size, "min": low, "max": high},
    )


def inclusion_proof(session: Session, *, seq: int, size: int | None = None) -> InclusionProof:
    """Prove entry ``seq`` is in the tree of ``size`` leaves (default: the latest checkpoint)."""
    entry = repository.entry(session, seq) if seq >= 1 else None
    if entry is None and seq > _tree_size(session) and queue.pending_count(session):
        delay = get_settings().audit_max_merge_delay_seconds
        raise Conflict(
            "audit_entry_queued",
            f"访问记录 {seq} 尚未并入日志树：仍有记录在队列中等待并入"
            f"（最长并入延迟 {delay:g} 秒）；"
            "请稍后再试，或先运行 tongban audit integrate。",
            f"Entry {seq} is not in the tree yet: entries are queued for integration "
            f"(maximum merge delay {delay:g} s); try again shortly or run tongban audit "
            "integrate first.",
            details={"seq": seq, "max_merge_delay_seconds": delay},
        )
    if entry is None:
        raise NotFound(
            "audit_entry_not_found", f"访问记录不存在：{seq}", f"Audit entry not found: {seq}"
        )
    if size is None:
        latest = repository.latest_checkpoint(session)
        if latest is None or latest.tree_size < seq:
            raise Invalid(
                "audit_not_checkpointed",
                f"第 {seq} 条记录尚未被签名检查点覆盖；请先运行 tongban audit checkpoint。",
                f"Entry {seq} is not covered by a signed checkpoint yet; "
                "run tongban audit checkpoint first.",
            )
        size = latest.tree_size
    if not seq <= size <= _tree_size(session):
        raise _bad_size(size, seq, _tree_size(session))
    values = {name: getattr(entry, name) for name in service.HASHED_FIELDS}
    leaf = merkle.leaf_hash(service.canonical(values))
    ranges = merkle.inclusion_ranges(seq - 1, size)
    path = merkle.range_roots(ranges, _leaves(session, size))
    root = _root(session, size)
    valid = merkle.verify_inclusion(leaf, seq - 1, size, path, bytes.fromhex(root.root_hash))
    return InclusionProof(seq, leaf.hex(), [node.hex() for node in path], root, valid)


def consistency_proof(session: Session, *, first: int, second: int) -> ConsistencyProof:
    """Prove the tree of ``first`` leaves is a prefix of the tree of ``second`` leaves."""
    total = _tree_size(session)
    if not 1 <= second <= total:
        raise _bad_size(second, 1, total)
    if not 1 <= first <= second:
        raise _bad_size(first, 1, second)
    ranges = merkle.consistency_ranges(first, second)
    path = merkle.range_roots(ranges, _leaves(session, second))
    old, new = _root(session, first), _root(session, second)
    valid = merkle.verify_consistency(
        first, second, bytes.fromhex(old.root_hash), bytes.fromhex(new.root_hash), path
    )
    return ConsistencyProof([node.hex() for node in path], old, new, valid)
