"""``tongban exchange …``: providers, data quality, 免提交 coverage, statistics, this node and
its peers."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from tongban.errors import DomainError
from tongban.kit.cli import fail as _fail

app = typer.Typer(no_args_is_help=True, help="Data exchange (数据共享交换)")
peers_app = typer.Typer(no_args_is_help=True, help="Peer nodes (对端节点)")
app.add_typer(peers_app, name="peers")


@app.command()
def providers() -> None:
    """Registered providers, their status and the services each offers."""
    from tongban.db import transaction
    from tongban.exchange import registry

    with transaction() as session:
        found = registry.providers(session)
    if not found:
        typer.echo("尚未登记数据提供方 / no providers registered")
        return
    for p in found:
        typer.echo(f"{p.code:<18} {p.status_label}({p.status})  {p.kind:<4}  {p.name}")
        typer.echo(f"{'':<18} {p.location}  mapping={p.mapping}  breaker={p.breaker}")
        for s in p.services:
            claims = ", ".join(s.claims) or "-"
            typer.echo(f"{'':<18} · {s.code:<30} {s.name}")
            typer.echo(f"{'':<18}   elements: {', '.join(s.elements) or '-'}; claims: {claims}")


@app.command()
def quality(
    provider: Annotated[str, typer.Argument(help="provider code, e.g. population")],
) -> None:
    """The data-quality report of a provider's source (completeness, validity, duplicates)."""
    from tongban.db import transaction
    from tongban.exchange import repository
    from tongban.exchange.adapters import open_adapter
    from tongban.exchange.quality import quality_report, render_text

    with transaction() as session:
        row = repository.provider(session, provider)
        if row is None:
            _fail(
                DomainError(
                    "exchange_provider_not_found",
                    f"数据提供方不存在：{provider}",
                    f"No such provider: {provider}",
                )
            )
        kind, mapping, location = row.kind, row.mapping, row.location
    if kind == "node":
        _fail(
            DomainError(
                "exchange_quality_remote",
                "对端节点的数据质量由该节点自行报告。",
                "A peer node reports on its own data quality.",
            )
        )
    try:
        adapter = open_adapter(mapping, location)
    except DomainError as error:
        _fail(error)
    try:
        typer.echo(render_text(quality_report(adapter)))
    finally:
        adapter.close()


class Format(StrEnum):
    text = "text"
    json = "json"


@app.command()
def coverage(
    format: Annotated[Format, typer.Option("--format", help="text or json")] = Format.text,
) -> None:
    """Per catalog item: which materials shared data replaces (service, claim), which a
    description only, which still need paper; with the totals."""
    import json

    from tongban.catalog import service as catalog_service
    from tongban.db import transaction
    from tongban.exchange.coverage import coverage_of, render_text

    with transaction() as session:
        codes, page = [], 1
        while True:
            found = catalog_service.list_items(session, page=page, size=100)
            codes += [summary.code for summary in found.items]
            if not found.items or len(codes) >= found.total:
                break
            page += 1
        report = coverage_of(catalog_service.get_item(session, code=code) for code in codes)
    if format is Format.json:
        typer.echo(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
    else:
        typer.echo(render_text(report))


@app.command()
def stats(
    minutes: Annotated[int, typer.Option(help="the window, in minutes")] = 60,
) -> None:
    """Per provider service: requests, outcomes, errors and latency percentiles."""
    from tongban.db import transaction
    from tongban.exchange import metrics

    with transaction() as session:
        report = metrics.stats(session, minutes=minutes)
    typer.echo(
        f"最近 {minutes} 分钟 / last {minutes} min (until {report.until:%Y-%m-%d %H:%M} UTC)"
    )
    if not report.services:
        typer.echo("没有调用 / no calls")
        return
    typer.echo(
        f"{'service':<30} {'requests':>8} {'ok':>6} {'denied':>6} {'unavail':>7} "
        f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  breaker"
    )
    for s in report.services:
        typer.echo(
            f"{s.service_code:<30} {s.requests:>8} {s.answered:>6} {s.denied:>6} "
            f"{s.unavailable:>7} {s.p50_ms:>8.2f} {s.p95_ms:>8.2f} {s.p99_ms:>8.2f}  {s.breaker}"
        )
        if s.errors:
            typer.echo("  errors: " + ", ".join(f"{c}×{n}" for c, n in sorted(s.errors.items())))


@app.command()
def node() -> None:
    """This node's id and public key (give them to a peer: tongban exchange peers add)."""
    from tongban.exchange.keys import node_identity

    identity = node_identity()
    typer.echo(f"node id:    {identity.node_id}")
    typer.echo(f"algorithm:  {identity.algorithm}")
    typer.echo(f"key id:     {identity.key_id}")
    typer.echo(f"public key: {identity.public_key}")


@peers_app.command("add")
def peers_add(
    node_id: Annotated[str, typer.Argument(help="the peer's node id")],
    url: Annotated[str, typer.Option(help="its base URL, e.g. https://tongban.example.gov.cn")],
    public_key: Annotated[str, typer.Option(help="its public key (base64)")],
    algorithm: Annotated[str, typer.Option(help="ed25519 or sm2")] = "ed25519",
    name: Annotated[str, typer.Option(help="a readable name")] = "",
) -> None:
    """Trust a peer node's key (again, after it rotated its key)."""
    from tongban.db import transaction
    from tongban.exchange import registry

    try:
        with transaction() as session:
            peer = registry.add_peer(
                session,
                actor=None,
                node_id=node_id,
                name=name or node_id,
                base_url=url,
                algorithm=algorithm,
                public_key=public_key,
            )
            typer.echo(f"trusted {peer.node_id} ({peer.algorithm}) at {peer.base_url}")
    except DomainError as error:
        _fail(error)


@peers_app.command("list")
def peers_list() -> None:
    """Peer nodes this node trusts."""
    from tongban.db import transaction
    from tongban.exchange import registry

    with transaction() as session:
        for peer in registry.peers(session):
            typer.echo(f"{peer.node_id:<24} {peer.status:<8} {peer.algorithm:<8} {peer.base_url}")
