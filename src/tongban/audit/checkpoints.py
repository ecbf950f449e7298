"""Signed checkpoints of the audit tree (placeholder until the checkpoint work lands)."""

from __future__ import annotations

from sqlalchemy.orm import Session


def checkpoint_if_due(session: Session) -> None:
    return None
