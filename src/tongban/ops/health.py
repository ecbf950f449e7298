"""Liveness and readiness checks (``/healthz``, ``/readyz``).

Liveness says only that the process answers; a load balancer that restarts on it must not
restart every app server because the database is down. Readiness says whether this app
server can do its work: the database answers, its schema is at the latest migration, and
the key files it needs (session signing key, field-encryption keyring, audit checkpoint
signing key, audit witness file) can be read. A failed check names what failed, never a
secret or a path's content.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import text

from tongban.config import Settings
from tongban.db import alembic_config, get_engine


class ProbeFailed(Exception):
    """A check's own finding (its message is the detail shown)."""


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    ms: float

    def to_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "detail": self.detail, "ms": round(self.ms, 1)}


def _timed(name: str, probe: Callable[[], str]) -> Check:
    started = time.perf_counter()
    try:
        detail = probe()
        ok = True
    except ProbeFailed as failed:
        detail, ok = str(failed), False
    except Exception as exc:  # a probe reports any failure; the process must keep answering
        first_line = str(exc).splitlines()[0][:200] if str(exc) else ""
        detail, ok = f"{type(exc).__name__}: {first_line}", False
    return Check(name, ok, detail, (time.perf_counter() - started) * 1000)


def _database(url: str) -> str:
    with get_engine(url).connect() as conn:
        conn.execute(text("SELECT 1"))
    return "reachable"


@lru_cache(maxsize=1)
def _code_heads() -> frozenset[str]:
    """The newest migrations this code ships (read once: reading the scripts costs ~70 ms,
    too much for a probe that load balancers call every few seconds)."""
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def _migrations(url: str) -> str:
    # db.migration_gap's comparison, with the code's heads cached.
    from alembic.runtime.migration import MigrationContext

    with get_engine(url).connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    if not current:
        raise ProbeFailed("missing schema: run tongban db upgrade")
    if current != _code_heads():
        missing = sorted(_code_heads() - current)
        if missing:
            raise ProbeFailed(f"missing migrations {', '.join(missing)}: run tongban db upgrade")
        ahead = ", ".join(sorted(current - _code_heads()))
        raise ProbeFailed(f"database at {ahead}, newer than this release: deploy the new one")
    return "current"


def key_files(settings: Settings) -> dict[str, Path]:
    """The files outside the database this deployment depends on, by role.

    The session key counts only when it is not given in the environment; the witness file
    is created with the first checkpoint, so its absence on a fresh site is not a failure.
    """
    files: dict[str, Path] = {}
    if not settings.secret_key:
        files["secret_key"] = Path(settings.secret_key_file)
    files["encryption_keyring"] = Path(settings.key_file)
    files["audit_signing_key"] = Path(settings.audit_signing_key_file)
    files["audit_witness"] = Path(settings.audit_checkpoint_file)
    files["exchange_node_key"] = Path(settings.exchange_node_key_file)
    return files


# Created on first use by the process that needs them: absent on a site that has not yet
# signed a checkpoint or called a peer, which is not a reason to take a server out.
OPTIONAL_UNTIL_CREATED = {"audit_witness", "exchange_node_key", "audit_signing_key"}


def _key_files(settings: Settings) -> str:
    unreadable: list[str] = []
    for role, path in key_files(settings).items():
        if not path.exists():
            if role not in OPTIONAL_UNTIL_CREATED:
                unreadable.append(f"{role} missing")
            continue
        try:
            with path.open("rb") as handle:
                handle.read(1)
        except OSError as exc:
            unreadable.append(f"{role} unreadable ({exc.strerror})")
    if unreadable:
        raise ProbeFailed("; ".join(unreadable))
    return "readable"


def liveness() -> dict[str, object]:
    return {"status": "ok"}


def readiness(settings: Settings, database_url: str) -> tuple[bool, dict[str, object]]:
    """(ready, body): every check with its outcome and time; the migrations are not checked
    when the database does not answer (the one failure is the cause)."""
    checks = [_timed("database", lambda: _database(database_url))]
    if checks[0].ok:
        checks.append(_timed("migrations", lambda: _migrations(database_url)))
    checks.append(_timed("key_files", lambda: _key_files(settings)))
    ready = all(check.ok for check in checks)
    body: dict[str, object] = {
        "status": "ready" if ready else "unavailable",
        "checks": {check.name: check.to_dict() for check in checks},
    }
    return ready, body
