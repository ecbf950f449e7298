"""Key management for encryption at rest: rotate, status, retire.

Rotation is an operator job that runs beside live app servers, so it commits in
batches (each batch its own transaction) instead of in one long transaction:

1. add a new data key to the key file and make it active (old keys stay);
2. wait until running processes have looked at the file again (RELOAD_SECONDS),
   so that from then on they seal new values with the new key;
3. sweep every encrypted column found in the models: each value not yet under
   the new key (legacy plain values too) is re-sealed with a compare-and-set
   UPDATE, so a value the app changed meanwhile is never overwritten — it is
   picked up by the next pass instead;
4. re-seal the stored files; record the rotation in the audit log.

A rotation interrupted half-way is continued by running it again (a small state
file beside the key file names the key being rolled out). Docs: docs/encryption.md.
"""

from __future__ import annotations

import fcntl
import getpass
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tongban.config import get_settings
from tongban.db import Base, import_all_models, transaction
from tongban.errors import Conflict, DomainError, Invalid, NotFound
from tongban.privacy import crypto
from tongban.privacy.crypto import (
    PREFIX,
    CryptoError,
    EncryptedJSON,
    EncryptedText,
    Keyring,
    keyring,
    reset_keyring,
)

MAX_PASSES = 5  # sweeps over the columns while the app keeps changing values under us


@dataclass(frozen=True)
class EncryptedColumn:
    table: str
    key: str  # the primary key column the compare-and-set UPDATE addresses rows by
    column: str
    context: str  # the associated data the value is sealed with
    is_json: bool


@dataclass
class BatchDone:
    """Progress of a rotation: one committed batch of one column."""

    column: EncryptedColumn
    resealed: int
    conflicts: int


@dataclass
class RotationReport:
    key_id: str
    suite: str
    continued: bool  # True: an interrupted rotation was taken up again
    values: int = 0  # values re-sealed with the new key
    conflicts: int = 0  # values the app changed during a batch (re-read by the next pass)
    batches: int = 0
    passes: int = 0
    files: int = 0  # stored files re-sealed
    remaining: int = 0  # values still not under the new key (0 when the rotation is done)
    seconds: float = 0.0

    @property
    def done(self) -> bool:
        return self.remaining == 0


@dataclass
class KeyStatus:
    active: str
    rotating: str | None  # the key an unfinished rotation is rolling out
    suites: dict[str, str]  # key id -> suite, for every key in the key file
    values: dict[str, int] = field(default_factory=dict)  # key id -> values sealed with it
    files: dict[str, int] = field(default_factory=dict)  # key id -> files sealed with it
    plain_values: int = 0  # stored before encryption was switched on
    plain_files: int = 0
    unknown_values: int = 0  # sealed with a key id the key file does not have


# -- discovery ------------------------------------------------------------------------
def encrypted_columns() -> list[EncryptedColumn]:
    """Every encrypted column of the models: no hand-kept list to forget a column in."""
    import_all_models()
    found = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if not isinstance(column.type, EncryptedText | EncryptedJSON):
                continue
            keys = list(table.primary_key.columns)
            if len(keys) != 1:
                raise TypeError(f"{table.name}.{column.name}: rotation needs a one-column key")
            found.append(
                EncryptedColumn(
                    table=table.name,
                    key=keys[0].name,
                    column=column.name,
                    context=column.type.context,
                    is_json=isinstance(column.type, EncryptedJSON),
                )
            )
    return found


def _storage() -> Any:
    from tongban.cases.storage import get_storage  # files live with the cases domain

    return get_storage()


# -- rotate ---------------------------------------------------------------------------
def rotate(
    url: str,
    *,
    batch_size: int = 500,
    suite: str | None = None,
    settle_seconds: float | None = None,
    progress: Callable[[BatchDone], None] | None = None,
) -> RotationReport:
    """Roll out a new data key (or finish an interrupted rollout); see the module doc."""
    if batch_size < 1:
        raise Invalid("invalid_batch_size", "批次大小须为正整数。", "Batch size must be positive.")
    started = time.monotonic()
    ring, continued = _begin(suite)
    report = RotationReport(key_id=ring.active, suite=ring.suite, continued=continued)
    if not continued:
        time.sleep(crypto.RELOAD_SECONDS + 0.5 if settle_seconds is None else settle_seconds)
    columns = encrypted_columns()
    for _ in range(MAX_PASSES):
        report.passes += 1
        conflicts_before = report.conflicts
        for column in columns:
            _sweep(url, column, report, batch_size, progress)
        if report.conflicts == conflicts_before:
            break
    storage = _storage()
    report.files = sum(storage.reencrypt(sha256) for sha256 in list(storage.hashes()))
    report.remaining = sum(_count_not_under(url, c, report.key_id) for c in columns)
    report.seconds = time.monotonic() - started
    if report.done:
        _state_path().unlink(missing_ok=True)
        with transaction(url) as session:
            _record_in(session, "keys.rotate", report.key_id, _summary(report))
    return report


def _begin(suite: str | None) -> tuple[Keyring, bool]:
    """Add and activate a new key, or take up the rollout a state file names."""
    path = _key_file()
    keyring()  # creates the key file on a first run
    with _locked(path):
        ring = Keyring.load(path)
        rotating = _rotating()
        continued = rotating == ring.active
        if continued and suite and suite != ring.suite:
            raise Conflict(
                "rotation_in_progress",
                f"密钥 {ring.active} 的轮换尚未完成，请先不带 --suite 再次运行以完成它。",
                f"The rotation to key {ring.active} is unfinished; run it again without --suite.",
            )
        if not continued:
            ring.add_key(suite)
            ring.save(path)
            _state_path().write_text(json.dumps({"key_id": ring.active}))
    reset_keyring()  # this process seals with the new key from now on
    return keyring(), continued


def _sweep(
    url: str,
    column: EncryptedColumn,
    report: RotationReport,
    batch_size: int,
    progress: Callable[[BatchDone], None] | None,
) -> None:
    """One pass over a column in key order; every batch commits on its own."""
    after: Any = None
    while True:
        with transaction(url) as session:
            rows = pending(session, column, report.key_id, after=after, limit=batch_size)
            if not rows:
                return
            resealed, conflicts = reseal(session, column, rows)
        after = rows[-1][0]
        report.values += resealed
        report.conflicts += conflicts
        report.batches += 1
        if progress is not None:
            progress(BatchDone(column, resealed, conflicts))


def _table(column: EncryptedColumn) -> sa.TableClause:
    # a bare table clause: no ORM, no onupdate timestamps, no optimistic-lock version
    # bump — a re-sealed value is the same value, and must not look like an edit
    return sa.table(column.table, sa.column(column.key), sa.column(column.column, sa.Text))


def _not_under(table: sa.TableClause, column: EncryptedColumn, key_id: str) -> Any:
    value = table.c[column.column]
    return sa.and_(value.is_not(None), ~value.startswith(f"{PREFIX}{key_id}:", autoescape=True))


def pending(
    session: Session, column: EncryptedColumn, key_id: str, *, after: Any, limit: int
) -> list[tuple[Any, str]]:
    """The next rows (key, stored value) of a column whose value is not under ``key_id``."""
    table = _table(column)
    query = sa.select(table.c[column.key], table.c[column.column]).where(
        _not_under(table, column, key_id)
    )
    if after is not None:
        query = query.where(table.c[column.key] > after)
    rows = session.execute(query.order_by(table.c[column.key]).limit(limit)).all()
    return [(row[0], row[1]) for row in rows]


def reseal(
    session: Session, column: EncryptedColumn, rows: list[tuple[Any, str]]
) -> tuple[int, int]:
    """Seal each value with the active key where it still is what was read: (done, conflicts).

    One compare-and-set statement runs for all rows (executemany); pysqlite and
    psycopg both sum the rows changed, so a row the app changed since it was read
    counts as a conflict and keeps the app's value.
    """
    ring = keyring()
    table = _table(column)
    statement = (
        sa.update(table)
        .where(
            table.c[column.key] == sa.bindparam("k"),
            table.c[column.column] == sa.bindparam("old"),
        )
        .values({column.column: sa.bindparam("new")})
    )
    params = [
        {
            "k": key,
            "old": old,
            "new": ring.encrypt(_open(ring, column, key, old), context=column.context),
        }
        for key, old in rows
    ]
    result: sa.CursorResult[Any] = session.execute(statement, params)  # type: ignore[assignment]
    return result.rowcount, len(rows) - result.rowcount


def _open(ring: Keyring, column: EncryptedColumn, row_key: Any, stored: str) -> str:
    try:
        return ring.decrypt(stored, context=column.context)
    except CryptoError as error:
        raise DomainError(
            "rotation_failed",
            f"{column.table}.{column.column} 第 {row_key} 行无法解密，轮换中止：{error.message_zh}",
            f"{column.table}.{column.column} row {row_key} cannot be decrypted; "
            f"rotation stopped: {error.message_en}",
            status=500,
            details={"table": column.table, "column": column.column, "key": str(row_key)},
        ) from error


def _count_not_under(url: str, column: EncryptedColumn, key_id: str) -> int:
    table = _table(column)
    with transaction(url) as session:
        query = sa.select(sa.func.count()).select_from(table)
        return int(session.execute(query.where(_not_under(table, column, key_id))).scalar_one())


def _summary(report: RotationReport) -> str:
    return (
        f"operator={_operator()} suite={report.suite} values={report.values} "
        f"files={report.files} batches={report.batches} continued={report.continued}"
    )


# -- status and retire ----------------------------------------------------------------
def status(url: str) -> KeyStatus:
    """How many values and files each key seals (and how many are still plain)."""
    keyring()  # creates the key file on a first run
    ring = Keyring.load(_key_file())  # the file as it is now, not this process's copy
    result = KeyStatus(active=ring.active, rotating=_rotating(), suites=dict(ring.key_suites))
    key_ids = sorted(ring.keys)
    with transaction(url) as session:
        for column in encrypted_columns():
            counts = _column_counts(session, column, key_ids)
            for kid in key_ids:
                result.values[kid] = result.values.get(kid, 0) + counts[kid]
            result.plain_values += counts["plain"]
            result.unknown_values += (
                counts["total"] - counts["plain"] - sum(counts[kid] for kid in key_ids)
            )
    result.files = dict.fromkeys(key_ids, 0)
    storage = _storage()
    for sha256 in storage.hashes():
        kid = storage.key_id_of(sha256)
        if kid is None:
            result.plain_files += 1
        else:
            result.files[kid] = result.files.get(kid, 0) + 1
    return result


def _column_counts(session: Session, column: EncryptedColumn, key_ids: list[str]) -> dict[str, int]:
    table = _table(column)
    value = table.c[column.column]

    def tally(condition: Any) -> Any:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    labelled = {kid: value.startswith(f"{PREFIX}{kid}:", autoescape=True) for kid in key_ids}
    labelled["plain"] = ~value.startswith(PREFIX, autoescape=True)
    query = sa.select(
        sa.func.count().label("total"),
        *(tally(condition).label(f"c{i}") for i, condition in enumerate(labelled.values())),
    ).where(value.is_not(None))
    row = session.execute(query.select_from(table)).one()
    counts = {name: int(row[i + 1]) for i, name in enumerate(labelled)}
    counts["total"] = int(row[0])
    return counts


def retire(url: str, key_id: str) -> KeyStatus:
    """Drop a key from the key file, only when no value and no file is sealed with it."""
    path = _key_file()
    with _locked(path):
        ring = Keyring.load(path)
        if key_id not in ring.keys:
            raise NotFound(
                "unknown_key", f"密钥文件中没有密钥 {key_id}。", f"No key {key_id} in the key file."
            )
        if key_id == ring.active:
            raise Conflict(
                "key_active",
                f"密钥 {key_id} 是当前密钥，不能停用；请先轮换。",
                f"Key {key_id} is the active key; rotate first.",
            )
        usage = status(url)
        values, files = usage.values.get(key_id, 0), usage.files.get(key_id, 0)
        if values or files:
            raise Conflict(
                "key_in_use",
                f"仍有 {values} 个字段值和 {files} 个文件使用密钥 {key_id}；"
                "请先运行 tongban keys rotate 完成轮换。",
                f"{values} values and {files} files are still sealed with key {key_id}; "
                "finish `tongban keys rotate` first.",
                details={"values": values, "files": files},
            )
        with transaction(url) as session:
            _record_in(session, "keys.retire", key_id, f"operator={_operator()}")
            ring.remove_key(key_id)
            ring.save(path)  # before the commit: a failed save rolls the record back
    reset_keyring()
    return status(url)


# -- key file, state file, audit ------------------------------------------------------
def _key_file() -> Path:
    return Path(get_settings().key_file)


def _state_path() -> Path:
    path = _key_file()
    return path.with_name(path.name + ".rotation")


def _rotating() -> str | None:
    path = _state_path()
    if not path.exists():
        return None
    key_id: str = json.loads(path.read_text())["key_id"]
    return key_id


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One key-file change at a time across processes (two operators, two shells)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _record_in(session: Session, action: str, key_id: str, text: str) -> None:
    from tongban.audit import service as audit_service

    audit_service.record(
        session,
        actor=None,
        access=audit_service.Access(
            action=action,
            subject_kind="key",
            subject_ref=key_id,
            purpose_code="key_rotation",
            purpose_text=text,
        ),
    )
