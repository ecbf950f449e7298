"""``tongban audit …``: verify the log, sign a checkpoint, prove inclusion or consistency."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tongban.errors import DomainError
from tongban.kit.cli import fail as _fail

if TYPE_CHECKING:
    from tongban.audit.proofs import ConsistencyProof, InclusionProof, TreeRoot

app = typer.Typer(no_args_is_help=True, help="Tamper-evident access log (访问日志存证)")


@app.callback()
def audit() -> None:
    """Tamper-evident access log (访问日志存证)."""


@app.command()
def verify(
    witness: Annotated[
        Path | None, typer.Option(help="witness file (default: TONGBAN_AUDIT_CHECKPOINT_FILE)")
    ] = None,
) -> None:
    """Check every entry, the tree, the head and every checkpoint; exit 1 on tampering."""
    from tongban.audit.verify import verify as verify_log
    from tongban.config import get_settings

    report = verify_log(get_settings().database_url, witness_file=witness)
    summary = (
        f"{report.tree_size} entries, {report.checked_checkpoints} checkpoints, "
        f"{report.seconds:.2f} s"
    )
    delay = get_settings().audit_max_merge_delay_seconds
    if report.queued:
        typer.echo(
            f"另有 {report.queued} 条记录排队待并入"
            f"（密钥校验码已核对，最长并入延迟 {delay:g} 秒）\n"
            f"{report.queued} queued entries awaiting integration (MACs checked; maximum "
            f"merge delay {delay:g} s)"
        )
    for warning in report.warnings:
        typer.secho(f"注意：{warning.zh}\nwarning: {warning.en}", fg="yellow", err=True)
    if report.ok:
        typer.secho(f"日志完整：{report.tree_size} 条记录，{report.checked_checkpoints} 个检查点")
        typer.echo(f"log intact: {summary}")
        return
    # One line, like every error of the command.
    typer.secho(
        f"日志被篡改：{report.problem_zh} / log tampered: {report.problem} ({summary})", fg="red"
    )
    raise typer.Exit(1)


@app.command()
def integrate() -> None:
    """Integrate queued entries into the tree now (app servers do it within the maximum
    merge delay by themselves), then sign a checkpoint if one is due."""
    from tongban.audit.integrator import integrate_pending
    from tongban.config import get_settings

    count = integrate_pending(get_settings().database_url)
    typer.echo(f"已并入 {count} 条排队记录\nintegrated {count} queued entries")


@app.command()
def checkpoint() -> None:
    """Sign the current tree head now, and write any checkpoint the witness file lacks."""
    from tongban.audit import checkpoints
    from tongban.audit.integrator import integrate_pending
    from tongban.db import transaction

    integrate_pending()  # sign what was recorded, queued entries included
    with transaction() as session:
        made = checkpoints.create_checkpoint(session)
        latest = made or checkpoints.latest(session)
    with transaction() as session:
        repaired = checkpoints.publish_missing(session)
    if latest is None:
        typer.echo("日志为空，无需检查点\nthe log is empty: nothing to sign")
        return
    state_zh, state_en = ("已签名", "signed") if made else ("无新记录，最新检查点", "up to date")
    typer.echo(f"{state_zh}：规模 {latest.tree_size}，根 {latest.root_hash}")
    typer.echo(
        f"{state_en}: size {latest.tree_size}, root {latest.root_hash}, "
        f"{latest.algorithm} key {latest.key_id}, at {latest.signed_at.isoformat()}"
    )
    if repaired:
        typer.echo(
            f"补写见证文件 {repaired} 行\nwrote {repaired} missing line(s) to the witness file"
        )


@app.command()
def prove(
    seq: Annotated[int | None, typer.Option(help="entry to prove included")] = None,
    size: Annotated[int | None, typer.Option(help="tree size (default: latest checkpoint)")] = None,
    consistency: Annotated[
        tuple[int, int] | None,
        typer.Option(help="two tree sizes M N: prove the first is a prefix of the second"),
    ] = None,
) -> None:
    """Print an inclusion proof (--seq N [--size M]) or a consistency proof (--consistency M N)."""
    from tongban.audit import proofs
    from tongban.db import transaction

    if (seq is None) == (consistency is None):
        typer.secho("give --seq N or --consistency M N", fg="red", err=True)
        raise typer.Exit(2)
    from tongban.audit.integrator import integrate_pending

    integrate_pending()  # a just-recorded entry may still be queued
    try:
        with transaction() as session:
            if seq is not None:
                _print_inclusion(proofs.inclusion_proof(session, seq=seq, size=size))
            else:
                assert consistency is not None
                first, second = consistency
                _print_consistency(proofs.consistency_proof(session, first=first, second=second))
    except DomainError as error:
        _fail(error)


def _root_line(root: TreeRoot) -> str:
    if root.checkpoint is None:
        return f"size {root.tree_size}: root {root.root_hash} (computed; no signed checkpoint)"
    signed = "signature valid" if root.signature_ok else "SIGNATURE INVALID"
    return (
        f"size {root.tree_size}: root {root.root_hash} ({root.checkpoint.algorithm} "
        f"key {root.checkpoint.key_id}, {signed})"
    )


def _verdict(valid: bool, signed: bool) -> None:
    if valid and signed:
        typer.secho("证明有效，且根已签名\nproof valid against a signed root", fg="green")
        return
    if valid:
        typer.secho("证明有效，但根未经签名\nproof valid, but the root is not signed", fg="yellow")
        return
    typer.secho("证明无效 / proof INVALID", fg="red")
    raise typer.Exit(1)


def _print_inclusion(proof: InclusionProof) -> None:
    typer.echo(f"inclusion of entry {proof.seq} (leaf index {proof.seq - 1})")
    typer.echo(f"leaf {proof.leaf_hash}")
    for number, node in enumerate(proof.path, start=1):
        typer.echo(f"  path[{number}] {node}")
    typer.echo(_root_line(proof.root))
    _verdict(proof.valid, proof.root.signed)


def _print_consistency(proof: ConsistencyProof) -> None:
    typer.echo(f"consistency of size {proof.first.tree_size} with size {proof.second.tree_size}")
    for number, node in enumerate(proof.path, start=1):
        typer.echo(f"  path[{number}] {node}")
    typer.echo(_root_line(proof.first))
    typer.echo(_root_line(proof.second))
    _verdict(proof.valid, proof.first.signed and proof.second.signed)


@app.command("public-key")
def public_key() -> None:
    """Print the checkpoint signing public key(s), for a witness that checks independently."""
    from tongban.audit import signing

    keys = signing.signing_keys()
    typer.echo(
        f"current {keys.current.algorithm} {keys.current.key_id} {keys.current.public_key.hex()}"
    )
    for old in keys.retired:
        typer.echo(f"retired {old.algorithm} {old.key_id} {old.public_key.hex()}")
