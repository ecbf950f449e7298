"""Checking the whole audit log, and proofs of inclusion and consistency.

``verify`` reads every entry once in seq order (batched; a server-side cursor on
PostgreSQL), so a log of millions of entries is checked in bounded memory. It
recomputes each leaf hash and its MAC, rebuilds the tree, compares the root at
every checkpoint (database and witness file) and the head, and reports the first
problem: the smallest entry it concerns.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from hashlib import sha256
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.orm import Session

from tongban.audit import checkpoints, merkle, queue, repository, service, signing
from tongban.audit.checkpoints import Checkpoint
from tongban.audit.models import AuditHead

COLUMNS = (*service.HASHED_FIELDS, "leaf_hash", "mac")


@dataclass(frozen=True)
class Finding:
    zh: str
    en: str
    seq: int | None = None  # the first entry concerned, when one is known


@dataclass
class VerifyReport:
    ok: bool
    tree_size: int  # entries found in order from 1
    checked_checkpoints: int
    problem: str = ""  # English; "" when ok
    problem_zh: str = ""
    first_bad_seq: int | None = None
    seconds: float = 0.0
    warnings: list[Finding] = field(default_factory=list)
    queued: int = 0  # entries queued, not yet integrated (each MAC checked)


# -- findings ------------------------------------------------------------------------


def _missing(seq: int) -> Finding:
    return Finding(f"第 {seq} 条记录缺失（被删除）", f"entry {seq} missing (deleted)", seq)


def _inserted(seq: int, why_zh: str, why_en: str) -> Finding:
    return Finding(f"第 {seq} 条记录是插入的（{why_zh}）", f"entry {seq} inserted ({why_en})", seq)


def _altered(seq: int, rewritten_hash: bool) -> Finding:
    if rewritten_hash:
        return Finding(
            f"第 {seq} 条记录被篡改（哈希被改写，密钥校验码不符）",
            f"entry {seq} altered (its hash was rewritten; the MAC does not match)",
            seq,
        )
    return Finding(
        f"第 {seq} 条记录被篡改（内容与哈希不符）",
        f"entry {seq} altered (its content does not match its hash)",
        seq,
    )


def _truncated(have: int, source_zh: str, source_en: str, size: int) -> Finding:
    return Finding(
        f"日志被截断：{source_zh}记录了 {size} 条，数据库中只有 {have} 条",
        f"log truncated: {source_en} has {size} entries, the database holds {have}",
        have + 1,
    )


# -- the check -----------------------------------------------------------------------


@dataclass
class _Known:
    """Checkpoints by tree size, from the database and the witness file."""

    by_size: dict[int, list[tuple[str, Checkpoint]]]
    max_db: int
    max_witness: int
    count: int
    foreign: int  # witness checkpoints of other logs (other origins)


def _known_checkpoints(session: Session, witness_file: Path | None) -> tuple[_Known, list[Finding]]:
    origin = checkpoints.origin(session)
    stored = checkpoints.stored(session)
    witness = checkpoints.read_witness(witness_file)
    mine = witness.of(origin) if origin else []
    by_size: dict[int, list[tuple[str, Checkpoint]]] = {}
    for source, items in (("db", stored), ("witness", mine)):
        for item in items:
            by_size.setdefault(item.tree_size, []).append((source, item))
    warnings = []
    if witness.unreadable:
        warnings.append(
            Finding(
                f"见证文件有 {len(witness.unreadable)} 行无法读取",
                f"{len(witness.unreadable)} unreadable line(s) in the witness file "
                f"(lines {witness.unreadable[:5]})",
            )
        )
    foreign = len(witness.checkpoints) - len(mine)
    if foreign and origin:
        warnings.append(
            Finding(
                f"见证文件中有 {foreign} 个其他日志的检查点（其他数据库）",
                f"{foreign} checkpoint(s) of other logs (other databases) in the witness file",
            )
        )
    published = {c.tree_size for c in mine}
    unpublished = [c.tree_size for c in stored if c.tree_size not in published]
    if unpublished:
        warnings.append(
            Finding(
                f"{len(unpublished)} 个检查点未写入见证文件（运行 tongban audit checkpoint 补写）",
                f"{len(unpublished)} checkpoint(s) missing from the witness file "
                "(tongban audit checkpoint writes them)",
            )
        )
    known = _Known(
        by_size=by_size,
        max_db=max((c.tree_size for c in stored), default=0),
        max_witness=max((c.tree_size for c in mine), default=0),
        count=len(stored) + len(mine),
        foreign=foreign,
    )
    return known, warnings


def _checkpoint_finding(
    size: int, root: bytes, found: list[tuple[str, Checkpoint]], keys: signing.SigningKeys
) -> Finding | None:
    for source, checkpoint in found:
        where_zh, where_en = (
            ("数据库", "database") if source == "db" else ("见证文件", "witness file")
        )
        signature = checkpoints.signature_problem(checkpoint, keys)
        if signature == "unknown_key":
            return Finding(
                f"{where_zh}中规模为 {size} 的检查点由未知密钥 {checkpoint.key_id} 签名"
                "（签名密钥文件是否正确？）",
                f"the {where_en} checkpoint at size {size} is signed by an unknown key "
                f"{checkpoint.key_id} (is TONGBAN_AUDIT_SIGNING_KEY_FILE the right file?)",
            )
        if signature:
            return Finding(
                f"{where_zh}中规模为 {size} 的检查点签名无效",
                f"the {where_en} checkpoint at size {size} has an invalid signature",
            )
        if not hmac.compare_digest(checkpoint.root_hash, root.hex()):
            return Finding(
                f"前 {size} 条记录与{where_zh}中已签名的检查点不符（记录被删除、替换或重排）",
                f"the first {size} entries no longer match the signed {where_en} checkpoint "
                "(entries removed, replaced or reordered)",
            )
    return None


def check(session: Session, *, witness_file: Path | None = None) -> VerifyReport:
    """Check the log as this session sees it; nothing is written."""
    started = time.perf_counter()
    keys = signing.signing_keys()
    head = session.scalar(
        select(AuditHead)
        .where(AuditHead.id == repository.HEAD_ID)
        .execution_options(populate_existing=True)
    )
    known, warnings = _known_checkpoints(session, witness_file)
    mac_of = entry_mac_function(service.mac_key())
    head_size = head.tree_size if head is not None else None
    frontier: list[bytes] = []
    size = 0
    problem: Finding | None = None
    # (seq, leaf, mac) of the entries since the last checkpoint whose root and signature
    # verified: such a checkpoint binds every leaf before it, so their MACs are checked
    # only when the range fails (to name the entry) or is not covered by one yet.
    unsigned: list[tuple[int, bytes, str]] = []
    last = head_size if head_size is not None else 1 << 62
    leaf_input, hexed = _leaf_input, bytes.hex
    for row in repository.stream_entry_values(session, COLUMNS):
        seq = row[0]
        # The usual entry, inline; anything else goes to _entry, which says what is wrong.
        leaf = sha256(leaf_input(row)).digest() if seq == size + 1 else None
        if leaf is None or seq > last or hexed(leaf) != row[17]:
            _, problem = _entry(row, size + 1, head_size, mac_of)
            break
        unsigned.append((seq, leaf, row[18]))
        # merkle.append_leaf, inlined: it runs once per entry
        node, carry = leaf, size
        while carry & 1:
            node = sha256(b"\x01" + frontier.pop() + node).digest()
            carry >>= 1
        frontier.append(node)
        size += 1
        if size in known.by_size:
            root = merkle.root_from_frontier(frontier)
            problem = _checkpoint_finding(size, root, known.by_size[size], keys)
            if problem:
                break
            unsigned.clear()
        elif len(unsigned) >= MAC_BATCH:
            problem = _mac_problem(unsigned, mac_of)
            if problem:
                break
            unsigned.clear()
    problem = _mac_problem(unsigned, mac_of) or problem  # the smallest entry concerned
    problem = problem or _tail_problem(head, size, frontier, known)
    queued = queue.pending_rows(session)
    problem = problem or _queued_problem(queued)
    return VerifyReport(
        ok=problem is None,
        tree_size=size,
        checked_checkpoints=known.count,
        problem=problem.en if problem else "",
        problem_zh=problem.zh if problem else "",
        first_bad_seq=problem.seq if problem else None,
        seconds=time.perf_counter() - started,
        warnings=warnings,
        queued=len(queued),
    )


def _queued_problem(rows: Sequence[Any]) -> Finding | None:
    """The first queued entry whose MAC does not match its content (rewritten, or
    inserted by someone without the key); queued rows carry no position yet."""
    key = service.mac_key()
    for row in rows:
        values = dict(zip(queue.QUEUED_FIELDS, row[2:], strict=True))
        if not hmac.compare_digest(queue.queued_mac(values, key), row[1] or ""):
            return Finding(
                f"排队待并入的第 {row[0]} 号记录被篡改或伪造（密钥校验码不符）",
                f"queued entry {row[0]} altered or forged (its MAC does not match)",
            )
    return None


MAC_BATCH = 50_000  # entries whose MACs wait for a checkpoint, at most (bounded memory)


def _entry(
    row: Sequence[Any], expected: int, head_size: int | None, mac_of: Callable[[bytes], str]
) -> tuple[bytes | None, Finding | None]:
    """The entry's leaf hash, recomputed and equal to the stored one, or what is wrong
    with the entry (``row``: COLUMNS as the driver gives them). Its MAC is checked later
    (``_mac_problem``) unless a signed checkpoint covers it first."""
    seq = row[0]
    if seq != expected:
        if seq > expected:
            return None, _missing(expected)
        return None, _inserted(seq, "序号非法", "bad seq")
    if head_size is not None and seq > head_size:
        return None, _inserted(seq, "超出日志头", "beyond the log head")
    leaf = sha256(b"\x00" + _canonical_of_row(row)).digest()
    if leaf.hex() != row[17]:
        try:
            stored = bytes.fromhex(row[17])
        except (TypeError, ValueError):  # not even hex: rewritten by hand
            return None, _altered(seq, rewritten_hash=True)
        mac_ok = hmac.compare_digest(mac_of(stored), row[18] or "")
        return None, _altered(seq, rewritten_hash=not mac_ok)
    return leaf, None


def _mac_problem(
    entries: Sequence[tuple[int, bytes, str]], mac_of: Callable[[bytes], str]
) -> Finding | None:
    """The first of these entries whose MAC does not match its (recomputed, equal to the
    stored) leaf hash: its content and hash were rewritten together."""
    for seq, leaf, mac in entries:
        if not hmac.compare_digest(mac_of(leaf), mac or ""):
            return _altered(seq, rewritten_hash=True)
    return None


def entry_mac_function(key: bytes) -> Callable[[bytes], str]:
    """``service.entry_mac`` of a leaf, for millions of leaves: HMAC-SHA-256 (RFC 2104) with
    the key's inner and outer pads hashed once, each MAC two copies and two updates —
    about half the time of ``hmac.digest``, which sets the key up again on every call."""
    block = hashlib.sha256(key).digest() if len(key) > 64 else key
    block = block.ljust(64, b"\0")
    inner = sha256(bytes(byte ^ 0x36 for byte in block))
    outer = sha256(bytes(byte ^ 0x5C for byte in block))

    def mac(leaf: bytes) -> str:
        step = inner.copy()
        step.update(leaf)
        last = outer.copy()
        last.update(step.digest())
        return last.hexdigest()

    probe = bytes(range(32))
    if mac(probe) != hmac.digest(key, probe, "sha256").hex():  # never: RFC 2104 as written
        raise RuntimeError("the precomputed HMAC disagrees with hmac.digest")
    return mac


_FIELDS_SEEN: dict[str, str] = {}  # a log holds few distinct field lists


def _fields(value: Any) -> str:
    """The canonical fragment of the fields column (JSON text on SQLite, a list on PostgreSQL)."""
    if not isinstance(value, str):
        return service.fields_fragment(value)
    fragment = _FIELDS_SEEN.get(value)
    if fragment is None:
        fragment = service.fields_fragment(json.loads(value))
        if len(_FIELDS_SEEN) < 4096:
            _FIELDS_SEEN[value] = fragment
    return fragment


_canonical: Any = service.canonical_values  # called with the row's slices


def _canonical_of_row(row: Sequence[Any]) -> bytes:
    """``service.canonical`` of a row as the driver gives it (COLUMNS order)."""
    try:
        return _leaf_input_fast(row)[1:]
    except (TypeError, ValueError, IndexError):  # another type than the column's
        pass
    related = row[15]
    try:
        return _canonical(
            row[0],
            _at_iso(row[1]),
            *row[2:11],
            _fields(row[11]),
            *row[12:15],
            None if related is None else bool(related),  # 0/1 on SQLite
            row[16],
        )
    except TypeError:  # a value of another type than the column's (a hand-made row)
        values = dict(zip(service.HASHED_FIELDS, row, strict=False))
        values["at"] = _at_iso(row[1])
        if isinstance(row[11], str):
            values["fields"] = json.loads(row[11])
        return service.canonical(values)


# Runs of the canonical JSON that repeat from entry to entry (the same reader, action and
# purpose), built once by the same quoting and kept: a log holds few distinct ones.
_ACTOR_RUNS: dict[Any, str] = {}  # keyed by row slices (tuples)
_PURPOSE_RUNS: dict[Any, str] = {}
_RUNS_KEPT = 4096
_quote = json.encoder.encode_basestring


def _actor_run(key: Any) -> str:
    user_id, username, name, role, department, action = key
    if not (user_id is None or type(user_id) is int):
        raise TypeError("actor_user_id must be an integer")
    user = "null" if user_id is None else int.__repr__(user_id)
    dept = "null" if department is None else _quote(department)
    run = (  # with the RFC 6962 leaf prefix: the bytes are hashed as they are built
        f'\x00{{"action":{_quote(action)},"actor_department_code":{dept},'
        f'"actor_name":{_quote(name)},"actor_role":{_quote(role)},'
        f'"actor_user_id":{user},"actor_username":{_quote(username)},'
    )
    if len(_ACTOR_RUNS) < _RUNS_KEPT:
        _ACTOR_RUNS[key] = run
    return run


def _purpose_run(key: Any) -> str:
    code, text, result, related = key
    flag = "null" if related is None else ("true" if related else "false")  # 0/1 on SQLite
    run = (
        f'"purpose_code":{_quote(code)},"purpose_text":{_quote(text)},'
        f'"related":{flag},"result":{_quote(result)},'
    )
    if len(_PURPOSE_RUNS) < _RUNS_KEPT:
        _PURPOSE_RUNS[key] = run
    return run


def _leaf_input(row: Sequence[Any]) -> bytes:
    """0x00 ‖ the canonical bytes of a row (COLUMNS order): what its leaf hash covers."""
    try:
        return _leaf_input_fast(row)
    except (TypeError, ValueError, IndexError):  # another type than the column's
        return b"\x00" + _canonical_of_row(row)


def _leaf_input_fast(row: Sequence[Any]) -> bytes:
    """0x00 ‖ the canonical bytes of a row from cached runs and five quoted values; raises
    TypeError (→ the general path) on any value of an unexpected type."""
    seq, at = row[0], row[1]
    if type(seq) is not int:
        raise TypeError("seq must be an integer")
    actor_key = row[2:8]
    actor = _ACTOR_RUNS.get(actor_key) or _actor_run(actor_key)
    purpose_key = row[12:16]
    purpose = _PURPOSE_RUNS.get(purpose_key) or _purpose_run(purpose_key)
    if type(at) is str and len(at) == 26 and at[10] == " ":  # SQLite's UTC text
        at_iso = f"{at[:10]}T{at[11:]}+00:00"
    else:
        at_iso = _at_iso(at)
    client, person = row[16], row[10]
    return (
        f'{actor}"at":{_quote(at_iso)},'
        f'"client_addr":{"null" if client is None else _quote(client)},'
        f'"fields":[{_fields(row[11])}],'
        f'"person_ref":{"null" if person is None else _quote(person)},'
        f'{purpose}"seq":{int.__repr__(seq)},'
        f'"subject_kind":{_quote(row[8])},"subject_ref":{_quote(row[9])}}}'
    ).encode()


def _at_iso(value: Any) -> str:
    """The entry time as the canonical bytes hold it (UTC, microseconds)."""
    if isinstance(value, str):  # SQLite: "2026-11-27 01:30:00.123456", UTC
        if len(value) == 26 and value[10] == " ":
            return f"{value[:10]}T{value[11:]}+00:00"
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return str(value.astimezone(UTC).isoformat(timespec="microseconds"))


def _tail_problem(
    head: AuditHead | None, size: int, frontier: list[bytes], known: _Known
) -> Finding | None:
    """What is wrong after the last entry: a cut tail, a removed checkpoint, the head."""
    head_size = head.tree_size if head else 0
    if head_size > size:
        return _truncated(size, "日志头", "the log head", head_size)
    if known.max_db > size:
        return _truncated(size, "数据库检查点", "a database checkpoint", known.max_db)
    if known.max_witness > size:
        return _truncated(size, "见证文件", "the witness file", known.max_witness)
    if size == 0 and known.foreign:
        return Finding(
            "日志为空，但见证文件中有检查点（日志被清空？新库请换用新的见证文件）",
            "the log is empty but the witness file holds checkpoints (was it wiped? "
            "a new database needs a new witness file)",
            1,
        )
    if head is None and size:
        return Finding("日志头缺失", "the log head row is missing")
    if head is not None and list(head.frontier) != [node.hex() for node in frontier]:
        return Finding("日志头的紧凑范围与记录不符", "the log head's frontier does not match")
    for tree_size, found in sorted(known.by_size.items()):
        if not any(source == "db" for source, _ in found):
            return Finding(
                f"规模为 {tree_size} 的检查点已从数据库中删除（见证文件中仍有）",
                f"the checkpoint at size {tree_size} was removed from the database "
                "(the witness file still has it)",
            )
    return None


# -- running it and keeping the outcome -------------------------------------------


def verify(
    target: Session | str, *, witness_file: Path | None = None, keep: bool = True
) -> VerifyReport:
    """Check the log and (``keep``) store the outcome in ``audit_verifications``.

    The check always reads one consistent snapshot of what is committed, on a
    connection of its own that does not block requests appending meanwhile. Given a
    session, the outcome is stored in it (the caller commits); given a database URL,
    in a transaction of its own.
    """
    url = target if isinstance(target, str) else _url_of(target)
    with read_only_session(url) as session:
        report = check(session, witness_file=witness_file)
    if keep and isinstance(target, Session):
        _keep(target, report)
    elif keep:
        from tongban.db import transaction

        with transaction(url) as session:
            _keep(session, report)
    return report


def _url_of(session: Session) -> str:
    return session.get_bind().engine.url.render_as_string(hide_password=False)


def _keep(session: Session, report: VerifyReport) -> None:
    repository.add_verification(
        session,
        {
            "tree_size": report.tree_size,
            "ok": report.ok,
            "problem": f"{report.problem_zh}\n{report.problem}" if report.problem else "",
            "first_bad_seq": report.first_bad_seq,
            "seconds": report.seconds,
        },
    )


@contextmanager
def read_only_session(url: str) -> Iterator[Session]:
    """A read-only view of one moment: head, checkpoints and entries agree with each
    other even while requests append, so a concurrent append never looks like tampering."""
    if url.startswith("sqlite"):
        session = Session(bind=_deferred_sqlite_engine(url))
    else:
        from tongban.db import session_factory

        session = session_factory(url)()
        session.connection(
            execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        )
    try:
        yield session
    finally:
        session.rollback()
        session.close()


@lru_cache(maxsize=4)
def _deferred_sqlite_engine(url: str) -> Engine:
    """SQLite with plain BEGIN (not the app's BEGIN IMMEDIATE): a WAL read snapshot that
    lets requests keep appending while a long verification runs."""
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN DEFERRED")

    return engine
