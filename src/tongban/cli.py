"""The `tongban` command: serve, db, demo, users, workdays."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from tongban.errors import DomainError
from tongban.kit.cli import CommandGroup, not_migrated
from tongban.kit.cli import fail as _fail

# CommandGroup: every error of every sub-command is one line, never a traceback.
app = typer.Typer(no_args_is_help=True, help="tongban 通办 — 一网通办 platform", cls=CommandGroup)
db_app = typer.Typer(no_args_is_help=True, help="Database migrations")
demo_app = typer.Typer(no_args_is_help=True, help="The demo county (彭阳县)")
users_app = typer.Typer(no_args_is_help=True, help="User accounts")
workdays_app = typer.Typer(no_args_is_help=True, help="Working-day calendar (工作日)")
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(users_app, name="users")
app.add_typer(workdays_app, name="workdays")


def _register_domains() -> None:
    from tongban.audit.cli import app as audit_app
    from tongban.exchange.cli import app as exchange_app
    from tongban.ops.cli import register as register_operations
    from tongban.privacy.cli import app as privacy_app
    from tongban.privacy.keys_cli import app as keys_app

    app.add_typer(privacy_app, name="privacy", help="Personal data (个人信息保护)")
    app.add_typer(keys_app, name="keys", help="Encryption keys (密钥管理)")
    app.add_typer(audit_app, name="audit", help="Tamper-evident access log (访问日志存证)")
    app.add_typer(exchange_app, name="exchange", help="Data exchange (数据共享交换)")
    register_operations(app)  # tongban backup, tongban restore


_register_domains()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="bind address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes (stateless)")] = 1,
) -> None:
    """Run the web server (portal, workbench and /api/v1)."""
    import uvicorn

    from tongban.config import get_settings
    from tongban.privacy.logs import uvicorn_log_config

    _require_migrated()
    get_settings().resolved_secret_key()  # create the shared key before workers fork
    uvicorn.run(
        "tongban.app:create_app",
        factory=True,
        log_config=uvicorn_log_config(),
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
    )


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="every task once, then exit")] = False,
    interval: Annotated[
        float | None,
        typer.Option(help="seconds between sweeps (TONGBAN_WORKER_INTERVAL_SECONDS)"),
    ] = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(help="serve job outcome metrics on http://127.0.0.1:PORT/metrics"),
    ] = None,
) -> None:
    """Background work: case deadline warnings to the departments that owe the next step,
    complaint deadline warnings and escalations, auto-confirmation, overdue 差评
    follow-ups, delivery of queued e-mail and SMS, the audit log's queued entries merged
    into its signed tree, and removal of files chosen on a form that was never sent.
    On PostgreSQL several workers on several hosts share one job queue (procrastinate) and
    each job runs once; on SQLite one worker runs them (APScheduler). docs/operations.md"""
    from tongban.config import get_settings
    from tongban.events import register_handlers
    from tongban.jobs import metrics, runner

    _require_migrated()
    register_handlers()
    url = get_settings().database_url
    if once:
        if not runner.run_once(url, say=typer.echo):
            raise typer.Exit(1)
        return
    runner.configure_logging()
    if metrics_port is not None:
        metrics.serve(metrics_port)
    seconds = interval if interval is not None else get_settings().worker_interval_seconds
    kind = "procrastinate" if runner.is_postgresql(url) else "APScheduler"
    typer.echo(f"tongban worker ({kind}): sweeps every {seconds:g} s (Ctrl-C to stop)")
    try:
        runner.run_forever(url, interval=seconds)
    except DomainError as error:
        _fail(error)
    typer.echo("stopped")


def _require_migrated() -> None:
    """Long-running commands check up front: a server on an unmigrated database would only
    answer errors."""
    from tongban.db import migration_gap

    gap = migration_gap()
    if gap is not None:
        _fail(not_migrated("" if gap == "schema" else gap))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations to TONGBAN_DATABASE_URL."""
    from tongban.db import upgrade

    upgrade()
    typer.echo("database is up to date")


@demo_app.command("load")
def demo_load(
    history_cases: Annotated[
        int, typer.Option(help="cases of a year's history to generate (0: none)")
    ] = 1800,
) -> None:
    """Migrate, then load the demo county (regions, departments, catalog, users, history)."""
    from tongban.db import transaction, upgrade
    from tongban.demo.cases import load_sample_cases
    from tongban.demo.exchange import load_demo_grants, load_demo_providers
    from tongban.demo.history import load_history
    from tongban.demo.links import load_demo_links
    from tongban.demo.loader import load_catalog, load_places_and_people

    upgrade()
    try:
        with transaction() as session:
            load_places_and_people(session)
            # Before the catalog: its 免提交 references name the services they use.
            providers = load_demo_providers(session)
            load_catalog(session)
            load_demo_grants(session)  # the items exist: their grants can name them
            load_demo_links(session)
        with transaction() as session:
            created = load_sample_cases(session)
        history = load_history(cases=history_cases)  # one transaction per day
    except DomainError as error:
        _fail(error)
    typer.echo(f"demo county loaded (彭阳县 640425); sample cases added: {created}")
    typer.echo(
        f"history of the last 360 days added: {history.cases} cases, "
        f"{history.ratings} ratings, {history.complaints} complaints"
    )
    typer.echo(f"data exchange providers added: {providers} (tongban exchange providers)")
    _print_logins()


@demo_app.command("run")
def demo_run(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on", min=1, max=65535)] = 8000,
) -> None:
    """Load the demo (idempotent) and serve it on http://HOST:PORT, running the background
    work in this process: messages are delivered (SMS to the demo gateway's page /demo/sms
    unless configured otherwise), the audit log's entries integrated, deadlines swept."""
    import os

    from tongban.config import get_settings
    from tongban.events import register_handlers
    from tongban.jobs.county import CountyWorker
    from tongban.jobs.tasks import schedule

    if "TONGBAN_SMS_GATEWAY" not in os.environ and get_settings().sms_gateway == "none":
        os.environ["TONGBAN_SMS_GATEWAY"] = "demo"  # a configured gateway (.env) wins
        get_settings.cache_clear()
    demo_load()
    # The background work in this process too (messages every second), so the demo needs
    # no second process; a separate `tongban worker` would refuse to start beside it.
    register_handlers()  # the sweeps' warnings become notifications before the app starts
    tasks = schedule(get_settings().worker_interval_seconds, delivery=1.0)
    background = CountyWorker(get_settings().database_url, tasks).start()
    typer.echo(f"\n打开 / open http://{host}:{port}/")
    if get_settings().sms_gateway == "demo":
        typer.echo(f"演示短信 / demo SMS: http://{host}:{port}/demo/sms")
    try:
        serve(host=host, port=port, workers=1)
    finally:
        background.stop()


def _print_logins() -> None:
    from tongban.demo.loader import DEMO_LOGINS

    typer.echo("\n演示账号 / demo logins:")
    for username, password, role, description in DEMO_LOGINS:
        typer.echo(f"  {username:<16} {password:<14} {role:<10} {description}")


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Option()],
    password: Annotated[str, typer.Option()],
    role: Annotated[str, typer.Option(help="applicant | clerk | reviewer | admin")],
    region: Annotated[str | None, typer.Option(help="GB/T 2260 region code")] = None,
    department: Annotated[
        str | None, typer.Option(help="统一社会信用代码 of the department")
    ] = None,
    name: Annotated[str, typer.Option(help="display name")] = "",
) -> None:
    """Create a user account."""
    from tongban.access import service as access_service
    from tongban.db import transaction

    try:
        with transaction() as session:
            user = access_service.create_user(
                session,
                username=username,
                password=password,
                role=role,
                display_name=name,
                region_code=region,
                department_code=department,
            )
            typer.echo(f"created user {user.username} ({user.role}, id {user.id})")
    except DomainError as error:
        _fail(error)


@workdays_app.command("add")
def workdays_add(
    start: Annotated[str, typer.Argument(help="YYYY-MM-DD")],
    n: Annotated[int, typer.Argument(help="working days to add")],
) -> None:
    """Print the date N working days after START (START itself not counted)."""
    from tongban.db import transaction
    from tongban.workdays import service as workdays_service

    try:
        day = date.fromisoformat(start)
    except ValueError:
        typer.secho(f"错误：日期格式应为 YYYY-MM-DD / bad date: {start}", fg="red", err=True)
        raise typer.Exit(2) from None
    try:
        with transaction() as session:
            result = workdays_service.add_workdays(session, start=day, n=n)
    except DomainError as error:
        _fail(error)
    suffix = "  (provisional 暂定: official calendar not loaded)" if result.provisional else ""
    typer.echo(f"{result.date.isoformat()}{suffix}")


@workdays_app.command("load")
def workdays_load(file: Annotated[Path, typer.Argument(help="official arrangement file")]) -> None:
    """Load a year's official holiday arrangement; open cases' deadlines are recomputed."""
    from tongban import events
    from tongban.db import transaction
    from tongban.workdays import service as workdays_service

    events.register_handlers()
    try:
        with transaction() as session:
            summary = workdays_service.load_file(session, path=file)
    except DomainError as error:
        _fail(error)
    typer.echo(
        summary.model_dump_json(indent=2) if hasattr(summary, "model_dump_json") else summary
    )


@app.command()
def report(
    date_from: Annotated[date, typer.Option("--from", formats=["%Y-%m-%d"], help="first day")],
    date_to: Annotated[date, typer.Option("--to", formats=["%Y-%m-%d"], help="last day")],
    out: Annotated[Path, typer.Option(help="report file, .pdf or .html")],
    region: Annotated[str | None, typer.Option(help="only this region code's subtree")] = None,
    department: Annotated[str | None, typer.Option(help="only this department code")] = None,
    as_user: Annotated[str, typer.Option("--as", help="the center admin reading")] = "admin",
) -> None:
    """Half-year report (半年评估报告): 20 indicators with targets and the previous
    period, charts, departments below target, top bottlenecks."""
    from tongban.access import service as access_service
    from tongban.db import transaction
    from tongban.insight import report as insight_report
    from tongban.insight import report_render

    if out.suffix.lower() not in (".pdf", ".html", ".htm"):
        raise typer.BadParameter("the report file must end in .pdf or .html", param_hint="--out")
    try:
        with transaction() as session:
            actor = access_service.actor_by_username(session, as_user)
            if actor is None:
                raise typer.BadParameter(f"no active user {as_user!r}", param_hint="--as")
            data = insight_report.build(
                session,
                actor=actor,
                date_from=date_from,
                date_to=date_to,
                region_code=region,
                department_code=department,
            )
    except DomainError as error:
        _fail(error)
    report_render.write(data, out)
    typer.echo(f"{out}: {len(data.rows)} indicators, {data.cases} cases")


def main() -> None:
    """The console entry: usage errors (a missing option, a value of the wrong type) are one
    line too, like every other error."""
    from tongban.kit.cli import run_one_line

    run_one_line(app)


if __name__ == "__main__":
    main()
