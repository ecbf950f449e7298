"""The manifest of a backup: what it holds, each file's SHA-256 and size, the row counts.

Written last, so a backup cut short has no manifest and cannot be restored; read and checked
in full before a restore writes anything.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tongban.errors import DomainError

MANIFEST_NAME = "manifest.json"
FORMAT = "tongban-backup/1"
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class FileEntry:
    path: str  # relative to the backup directory, with forward slashes
    sha256: str
    size: int


@dataclass
class Manifest:
    created_at: str
    tongban_version: str
    alembic_revision: str
    database_kind: str  # "sqlite" or "postgresql"
    database_file: str  # the dump's path among ``files``
    storage: str  # "local": files included; "s3": the bucket keeps its own versions
    counts: dict[str, int]
    files: list[FileEntry] = field(default_factory=list)
    format: str = FORMAT

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        raw = json.loads(text)
        if raw.get("format") != FORMAT:
            raise ValueError(f"unknown format {raw.get('format')!r}")
        raw["files"] = [FileEntry(**entry) for entry in raw["files"]]
        return cls(**raw)


def file_entry(root: Path, path: Path) -> FileEntry:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return FileEntry(path.relative_to(root).as_posix(), digest.hexdigest(), size)


def bad_backup(problem_zh: str, problem_en: str) -> DomainError:
    return DomainError(
        "backup_invalid",
        f"备份不完整或已损坏：{problem_zh}；未写入任何内容。",
        f"The backup is incomplete or damaged: {problem_en}; nothing was written.",
        status=422,
    )


def read_verified(directory: Path) -> Manifest:
    """The manifest, once every file it lists is present with its size and SHA-256."""
    path = directory / MANIFEST_NAME
    if not path.is_file():
        raise bad_backup(f"缺少 {MANIFEST_NAME}", f"{MANIFEST_NAME} is missing")
    try:
        manifest = Manifest.from_json(path.read_text(encoding="utf-8"))
    except (ValueError, TypeError, KeyError) as exc:
        raise bad_backup(
            f"{MANIFEST_NAME} 无法读取", f"{MANIFEST_NAME} is unreadable ({exc})"
        ) from None
    root = directory.resolve()
    for entry in manifest.files:
        target = (directory / entry.path).resolve()
        if root not in target.parents:  # a manifest must not point outside its directory
            raise bad_backup(f"路径越界 {entry.path}", f"path outside the backup: {entry.path}")
        if not target.is_file():
            raise bad_backup(f"缺少文件 {entry.path}", f"file missing: {entry.path}")
        found = file_entry(directory, target)
        if (found.sha256, found.size) != (entry.sha256, entry.size):
            raise bad_backup(f"文件校验不符 {entry.path}", f"checksum mismatch: {entry.path}")
    if manifest.database_file not in {entry.path for entry in manifest.files}:
        raise bad_backup("清单未列出数据库文件", "the manifest lists no database dump")
    return manifest
