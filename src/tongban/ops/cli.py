"""``tongban backup --out DIR`` and ``tongban restore --from DIR`` (docs/operations.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tongban.errors import DomainError
from tongban.kit.cli import fail


def _say_where_keys_are() -> None:
    from tongban.config import get_settings
    from tongban.ops.backup import key_locations

    typer.echo(
        "密钥文件与见证文件不在备份中，须另行妥善保管（离线、与备份分开存放）：\n"
        "key and witness files are NOT in the backup; keep them separately (offline, "
        "apart from the backups):"
    )
    for role, path in key_locations(get_settings()).items():
        typer.echo(f"  {role}: {path}")


def backup(
    out: Annotated[Path, typer.Option("--out", help="a new or empty directory")],
) -> None:
    """Back up the database (online, consistent) and the uploaded files, with a manifest."""
    from tongban.config import get_settings
    from tongban.ops.backup import backup as run_backup

    settings = get_settings()
    try:
        manifest = run_backup(settings, settings.database_url, out)
    except DomainError as error:
        fail(error)
    size = sum(entry.size for entry in manifest.files)
    typer.echo(
        f"备份完成 / backup written: {out} ({manifest.database_kind}, revision "
        f"{manifest.alembic_revision}, {len(manifest.files)} files, {size} bytes, "
        f"{sum(manifest.counts.values())} rows)"
    )
    if manifest.storage != "local":
        typer.echo(
            "上传文件在 S3 存储中，不在本备份内：依靠存储桶的版本控制与复制。\n"
            "uploaded files live in S3 and are not in this backup: rely on bucket versioning "
            "and replication."
        )
    _say_where_keys_are()


def restore(
    source: Annotated[Path, typer.Option("--from", help="a directory written by tongban backup")],
) -> None:
    """Restore a backup into an EMPTY database (TONGBAN_DATABASE_URL) and the file storage."""
    from tongban.config import get_settings
    from tongban.ops.backup import restore as run_restore

    settings = get_settings()
    try:
        result = run_restore(settings, settings.database_url, source)
    except DomainError as error:
        fail(error)
    manifest = result.manifest
    typer.echo(
        f"恢复完成 / restored: backup of {manifest.created_at} ({manifest.database_kind}, "
        f"revision {manifest.alembic_revision}, {sum(manifest.counts.values())} rows); "
        f"files written {result.files_written}, already present {result.files_present}"
    )
    typer.echo("下一步 / next: tongban audit verify (with the same key and witness files)")
    _say_where_keys_are()


def register(app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)
