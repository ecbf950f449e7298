"""What the operations package adds to the app: probes, metrics, request ids, JSON logs."""

from __future__ import annotations

from fastapi import FastAPI

from tongban.ops.logs import RequestId, use_json_logs
from tongban.ops.metrics import RequestMetricsMiddleware
from tongban.ops.router import router
from tongban.ops.settings import get_ops_settings


def install(app: FastAPI) -> None:
    """Call after the other middlewares: these go outside them, so that a request refused by
    an inner one (413, a bad URL) or answered by one (a visitor's kept page,
    ``web/page_cache.install``) is still counted and carries its id."""
    app.include_router(router)
    app.add_middleware(RequestMetricsMiddleware)
    app.add_middleware(RequestId)
    if get_ops_settings().log_format == "json":
        use_json_logs()
