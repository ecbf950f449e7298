"""Who is asking, from where: set once per request by the web layer, read by the audit log."""

from __future__ import annotations

from contextvars import ContextVar

client_addr: ContextVar[str | None] = ContextVar("audit_client_addr", default=None)
