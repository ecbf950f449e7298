"""Misuse alerts (placeholder until the alert work lands)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tongban.access.rules import Actor


def evaluate(session: Session, actor: Actor | None, rows: list[dict[str, Any]]) -> None:
    return None
