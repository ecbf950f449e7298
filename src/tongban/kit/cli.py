"""Shared by the `tongban` sub-commands: how a domain error ends a command."""

from __future__ import annotations

from typing import NoReturn

import typer

from tongban.errors import DomainError


def fail(error: DomainError) -> NoReturn:
    """Print the error's code with both messages on standard error; exit with status 2."""
    typer.secho(
        f"错误 {error.code}: {error.message_zh}\nerror {error.code}: {error.message_en}",
        fg="red",
        err=True,
    )
    raise typer.Exit(2)
