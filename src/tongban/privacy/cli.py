"""``tongban privacy mask``: copy standard input to standard output, personal numbers masked."""

from __future__ import annotations

import sys

import typer

from tongban.privacy.scanner import mask_stream

app = typer.Typer(no_args_is_help=True, help="Personal data (个人信息): masking")


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
