"""`tongban keys …`: rotate the data keys, see what each key seals, retire an old key."""

from __future__ import annotations

from typing import Annotated

import typer

from tongban.errors import DomainError
from tongban.kit.cli import fail as _fail

app = typer.Typer(no_args_is_help=True, help="Encryption keys (docs/encryption.md).")


def _url() -> str:
    from tongban.config import get_settings

    return get_settings().database_url


@app.command()
def rotate(
    batch_size: Annotated[int, typer.Option(help="values per transaction", min=1)] = 500,
    suite: Annotated[
        str | None, typer.Option(help="aes-gcm or sm4-gcm for the new key (default: as now)")
    ] = None,
) -> None:
    """Add a new key and re-encrypt every value and file with it, in batches, without downtime.

    Running it again after an interruption continues the same rotation.
    """
    from tongban.privacy import keys
    from tongban.privacy.crypto import SUITES

    if suite is not None and suite not in SUITES:
        typer.secho(f"错误：未知算法 / unknown suite: {suite} ({', '.join(SUITES)})", err=True)
        raise typer.Exit(2)

    def show(batch: keys.BatchDone) -> None:
        column = batch.column
        typer.echo(f"  {column.table}.{column.column}: +{batch.resealed}", err=True)

    try:
        report = keys.rotate(_url(), batch_size=batch_size, suite=suite, progress=show)
    except DomainError as error:
        _fail(error)
    verb = "continued 继续" if report.continued else "rotated 轮换"
    typer.echo(
        f"{verb} → key {report.key_id} ({report.suite}): {report.values} values, "
        f"{report.files} files re-encrypted in {report.batches} batches, "
        f"{report.seconds:.1f} s"
    )
    if not report.done:
        typer.secho(
            f"{report.remaining} values changed during the rotation are not yet under "
            f"{report.key_id}; run `tongban keys rotate` again. "
            f"尚有 {report.remaining} 个值未完成，请再次运行。",
            fg="yellow",
        )
        raise typer.Exit(1)


@app.command()
def status() -> None:
    """For each key: how many field values and stored files are sealed with it."""
    from tongban.privacy import keys

    try:
        result = keys.status(_url())
    except DomainError as error:
        _fail(error)
    typer.echo(f"{'key':<8}{'suite':<10}{'values':>10}{'files':>8}")
    for kid, suite in sorted(result.suites.items()):
        mark = "  active 当前" if kid == result.active else ""
        values, files = result.values.get(kid, 0), result.files.get(kid, 0)
        typer.echo(f"{kid:<8}{suite:<10}{values:>10}{files:>8}{mark}")
    typer.echo(f"{'plain':<18}{result.plain_values:>10}{result.plain_files:>8}  明文（待轮换加密）")
    if result.unknown_values:
        typer.secho(
            f"{result.unknown_values} values are sealed with a key missing from the key file "
            f"(有 {result.unknown_values} 个值使用了密钥文件中没有的密钥)",
            fg="red",
        )
    if result.rotating:
        typer.echo(f"rotation to {result.rotating} unfinished: run `tongban keys rotate` again")


@app.command()
def retire(key_id: Annotated[str, typer.Argument(help="the key to remove, e.g. k1")]) -> None:
    """Remove an old key from the key file; refused while anything is sealed with it."""
    from tongban.privacy import keys

    try:
        keys.retire(_url(), key_id)
    except DomainError as error:
        _fail(error)
    typer.echo(f"retired 已停用 {key_id}")
