"""Shared by the `tongban` sub-commands: how an error ends a command.

Every error is one line on standard error, in Chinese and English, naming a stable code —
never a traceback (``TONGBAN_CLI_TRACEBACK=1`` shows it, for developers). A database that was
never migrated says so, and how to fix it (``tongban db upgrade``).
"""

from __future__ import annotations

import os
import sys
from typing import Any, NoReturn

import typer
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.core import TyperGroup
from typer.exceptions import TyperException

from tongban.errors import DomainError

UPGRADE_HINT = "tongban db upgrade"


def fail(error: DomainError) -> NoReturn:
    """Print the error's code with both messages on one line of standard error; exit 2."""
    typer.secho(
        f"错误 {error.code}: {_one_line(error.message_zh)} / "
        f"error {error.code}: {_one_line(error.message_en)}",
        fg="red",
        err=True,
    )
    raise typer.Exit(2)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def not_migrated(missing: str = "") -> DomainError:
    what = f"（缺少 {missing}）" if missing else ""
    what_en = f" ({missing} missing)" if missing else ""
    return DomainError(
        "database_not_migrated",
        f"数据库尚未初始化或版本过旧{what}：请先运行 `{UPGRADE_HINT}`。",
        f"The database is not migrated{what_en}: run `{UPGRADE_HINT}` first.",
    )


def describe(exc: BaseException) -> DomainError:
    """A domain error for what stopped a command: an unmigrated or unreachable database, a
    file that cannot be read, or anything else (its type and first line)."""
    from sqlalchemy.exc import DBAPIError, SQLAlchemyError

    if isinstance(exc, DBAPIError):
        text = _one_line(str(exc.orig))
        missing = _missing_table(exc)
        if missing is not None:
            return not_migrated(missing)
        if _is_connection_error(exc):
            return DomainError(
                "database_unavailable",
                f"无法连接数据库（TONGBAN_DATABASE_URL）：{text[:300]}",
                f"Cannot connect to the database (TONGBAN_DATABASE_URL): {text[:300]}",
            )
        return DomainError(
            "database_error", f"数据库错误：{text[:300]}", f"Database error: {text[:300]}"
        )
    if isinstance(exc, SQLAlchemyError):
        text = _one_line(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return DomainError(
            "database_error", f"数据库错误：{text[:300]}", f"Database error: {text[:300]}"
        )
    if isinstance(exc, OSError):
        name = exc.filename or ""
        return DomainError(
            "file_error",
            f"无法读写文件 {name}：{exc.strerror or exc}",
            f"Cannot read or write {name}: {exc.strerror or exc}",
        )
    first = _one_line(str(exc).splitlines()[0]) if str(exc) else ""
    summary = f"{type(exc).__name__}: {first}"[:300]
    return DomainError(
        "internal_error",
        f"意外错误：{summary}（设置 TONGBAN_CLI_TRACEBACK=1 可查看详情）",
        f"Unexpected error: {summary} (TONGBAN_CLI_TRACEBACK=1 shows the traceback)",
    )


def _missing_table(exc: Any) -> str | None:
    """The table a statement did not find: SQLite "no such table: x", PostgreSQL 42P01."""
    text = str(exc.orig)
    if "no such table" in text:
        return text.split("no such table:", 1)[-1].strip() or "tables"
    if (
        getattr(exc.orig, "sqlstate", None) == "42P01"
        or "UndefinedTable" in type(exc.orig).__name__
    ):
        first = text.splitlines()[0] if text else ""
        return (
            first.removeprefix("relation ").removesuffix(" does not exist").strip('"') or "tables"
        )
    return None


def _is_connection_error(exc: Any) -> bool:
    text = str(exc.orig).lower()
    return exc.connection_invalidated or any(
        words in text
        for words in (
            "connection refused",
            "could not connect",
            "unable to open database",
            "connection failed",
        )
    )


def run_one_line(app: typer.Typer) -> NoReturn:
    """Run ``app`` as the console command; a usage error ends it with one line (exit 2)."""
    try:
        code = app(standalone_mode=False)
    except NoArgsIsHelpError:
        sys.exit(2)  # the help was shown
    except UsageError as error:
        where = error.ctx.command_path if error.ctx is not None else "tongban"
        message = _one_line(error.format_message())
        typer.secho(
            f"错误 usage: 命令参数有误：{message}（查看 {where} --help） / "
            f"error usage: {message} (see {where} --help)",
            fg="red",
            err=True,
        )
        sys.exit(2)
    except typer.Abort:
        typer.secho("已中止 / aborted", fg="red", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


class CommandGroup(TyperGroup):
    """The root `tongban` group: whatever a sub-command raises ends it with one line."""

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException):
            raise
        except DomainError as error:
            fail(error)
        except Exception as exc:
            if os.environ.get("TONGBAN_CLI_TRACEBACK"):
                raise
            fail(describe(exc))
