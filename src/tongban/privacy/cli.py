"""``tongban privacy``: mask text (standard input to output) and the classification report."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated

import typer

from tongban.privacy.scanner import mask_stream

app = typer.Typer(no_args_is_help=True, help="Personal data (个人信息): masking and classification")


class ReportFormat(StrEnum):
    text = "text"
    json = "json"


@app.callback()
def privacy() -> None:
    """Personal data (个人信息) tools."""


@app.command()
def mask() -> None:
    """Mask identity, mobile and bank card numbers in text read from standard input.

    Works line by line, so large files stream: tongban privacy mask < note.txt > out.txt
    """
    out = sys.stdout
    for line in mask_stream(sys.stdin):
        out.write(line)
    out.flush()


@app.command()
def report(
    output_format: Annotated[
        ReportFormat, typer.Option("--format", help="text (aligned table) or json")
    ] = ReportFormat.text,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="default: TONGBAN_DATABASE_URL")
    ] = None,
) -> None:
    """List every classified field (数据分类分级清单): class, level, storage, who sees what.

    Covers the platform's own fields (policy.toml) and the form fields of every active
    service item, as declared in the item's form schema.
    """
    from tongban.db import transaction
    from tongban.privacy.classification import classified_fields, report_json, report_text

    with transaction(database_url) as session:
        fields = classified_fields(session)
    if output_format is ReportFormat.json:
        typer.echo(json.dumps(report_json(fields), ensure_ascii=False, indent=2))
    else:
        typer.echo(report_text(fields), nl=False)
