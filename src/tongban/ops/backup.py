"""``tongban backup`` and ``tongban restore``: the database and the uploaded files, with a
manifest; never the key files.

The database is copied first, the files after: files are named by their content and only
added while the site runs, so every file the copied database names is already stored when
the files are copied (a file chosen on a form never sent may be removed after a week; its
row then points at nothing, as it would on the live site a moment later).

The key files (session key, encryption keyring, audit signing key, exchange node key) and
the audit witness file are never in a backup: whoever holds a backup and its keys holds
every person's data, and a witness kept with the log it witnesses proves nothing. They are
kept separately (docs/operations.md); ``key_locations`` names them for the command to print.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tongban import __version__
from tongban.config import Settings
from tongban.errors import DomainError
from tongban.ops import dumps
from tongban.ops.health import key_files
from tongban.ops.manifest import MANIFEST_NAME, Manifest, file_entry, read_verified

FILES_DIR = "files"


@dataclass(frozen=True)
class RestoreResult:
    manifest: Manifest
    files_written: int
    files_present: int


def key_locations(settings: Settings) -> dict[str, Path]:
    return {role: path.resolve() for role, path in key_files(settings).items()}


def _stored_files(root: Path) -> list[Path]:
    """The stored blobs, in LocalStorage's layout (aa/bb/<sha256 of the plaintext>)."""
    from tongban.cases.storage import LocalStorage

    return [root / h[:2] / h[2:4] / h for h in LocalStorage(root).hashes()]


def _prepare_out(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise DomainError(
            "backup_target_not_empty",
            f"备份目录必须是新的或空的：{out}",
            f"The backup directory must be new or empty: {out}",
            status=409,
        )
    out.mkdir(parents=True, exist_ok=True)
    out.chmod(0o700)  # it holds every person's (encrypted) data


def _require_migrated(database_url: str) -> None:
    """A backup of a database that was never migrated (or is behind) could not be
    restored by this version; say so instead of writing one."""
    from tongban.db import migration_gap
    from tongban.kit.cli import not_migrated

    if dumps.kind(database_url) == "sqlite" and not dumps.sqlite_path(database_url).exists():
        raise not_migrated()  # and do not create an empty file by looking
    gap = migration_gap(database_url)
    if gap is not None:
        raise not_migrated(gap)


def backup(settings: Settings, database_url: str, out: Path) -> Manifest:
    _require_migrated(database_url)
    _prepare_out(out)
    kind = dumps.kind(database_url)
    dump = dumps.dump_sqlite if kind == "sqlite" else dumps.dump_postgresql
    dump_path, snapshot = dump(database_url, out)
    entries = [file_entry(out, dump_path)]
    if settings.storage == "local":
        root = Path(settings.storage_dir)
        for source in _stored_files(root):
            target = out / FILES_DIR / source.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            entries.append(file_entry(out, target))
    manifest = Manifest(
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        tongban_version=__version__,
        alembic_revision=snapshot.revision,
        database_kind=kind,
        database_file=entries[0].path,
        storage=settings.storage,
        counts=snapshot.counts,
        files=entries,
    )
    # Last, and atomically: a directory with a manifest is a whole backup.
    partial = out / (MANIFEST_NAME + ".partial")
    partial.write_text(manifest.to_json(), encoding="utf-8")
    os.replace(partial, out / MANIFEST_NAME)
    return manifest


def _check_compatible(manifest: Manifest, database_url: str) -> None:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    from tongban.db import alembic_config

    if manifest.database_kind != dumps.kind(database_url):
        raise DomainError(
            "restore_kind_mismatch",
            f"备份来自 {manifest.database_kind}，目标是 {dumps.kind(database_url)}。",
            f"The backup is of {manifest.database_kind}; the target is {dumps.kind(database_url)}.",
        )
    try:
        ScriptDirectory.from_config(alembic_config(database_url)).get_revision(
            manifest.alembic_revision
        )
    except CommandError:
        raise DomainError(
            "restore_unknown_revision",
            f"备份的数据库版本 {manifest.alembic_revision} 不属于本版本的 tongban。",
            f"The backup's schema revision {manifest.alembic_revision} is unknown to this "
            "version of tongban.",
        ) from None


def restore(settings: Settings, database_url: str, source: Path) -> RestoreResult:
    manifest = read_verified(source)  # every hash, before anything is written
    _check_compatible(manifest, database_url)
    dumps.require_empty(database_url)
    has_files = any(entry.path.startswith(FILES_DIR + "/") for entry in manifest.files)
    if has_files and settings.storage != "local":
        raise DomainError(
            "restore_storage_unsupported",
            "备份含本地文件，目标使用 S3 存储：请用 TONGBAN_STORAGE=local 恢复后再迁移文件。",
            "The backup holds local files and the target uses S3: restore with "
            "TONGBAN_STORAGE=local, then move the files.",
        )
    dump = source / manifest.database_file
    restore_db = (
        dumps.restore_sqlite if manifest.database_kind == "sqlite" else dumps.restore_postgresql
    )
    restored = restore_db(dump, database_url)
    if restored.counts != manifest.counts:
        differing = sorted(
            t
            for t in manifest.counts.keys() | restored.counts.keys()
            if manifest.counts.get(t) != restored.counts.get(t)
        )
        raise DomainError(
            "restore_counts_mismatch",
            f"恢复后的行数与清单不符：{', '.join(differing)}",
            f"Row counts after the restore differ from the manifest: {', '.join(differing)}",
        )
    written = present = 0
    root = Path(settings.storage_dir)
    prefix = FILES_DIR + "/"
    for entry in manifest.files:
        if not entry.path.startswith(prefix):
            continue
        target = root / entry.path.removeprefix(prefix)
        if target.exists():  # named by content: the same file is already stored
            present += 1
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(dir=target.parent, prefix=target.name + ".")
        os.close(fd)
        shutil.copyfile(source / entry.path, partial)
        os.replace(partial, target)
        written += 1
    return RestoreResult(manifest, written, present)
