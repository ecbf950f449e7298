"""Pages for the security auditor (安全审计员): alerts, account histories, log verification."""

from __future__ import annotations

from tongban.web.auditor.pages import router

__all__ = ["router"]
