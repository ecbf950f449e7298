"""Probes and metrics for load balancers, orchestrators and Prometheus.

Not part of the public API (left out of the OpenAPI document; docs/operations.md describes
them). They read no session and set no cookie, and ``/healthz`` touches no database.
"""

from __future__ import annotations

import hmac
import ipaddress
import threading

import anyio
import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool

from tongban.errors import DomainError
from tongban.ops import health, metrics
from tongban.ops.settings import get_ops_settings

router = APIRouter(include_in_schema=False)

NO_STORE = {"Cache-Control": "no-store"}


@router.get("/healthz")
async def healthz() -> JSONResponse:
    """The process answers (no database, no thread): restart it when this fails."""
    return JSONResponse(health.liveness(), headers=NO_STORE)


# One readiness check at a time per process: a check stuck on a hanging database is left
# behind at the deadline, and must not be joined by a new stuck thread at every probe.
_check_slot = threading.Lock()


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Database reachable, schema current, key files readable: route traffic here."""
    settings, url = request.app.state.settings, request.app.state.database_url
    if not _check_slot.acquire(blocking=False):
        return _unavailable("the previous check is still waiting for the database")

    def check() -> tuple[bool, dict[str, object]]:
        try:
            return health.readiness(settings, url)
        finally:
            _check_slot.release()

    try:
        with anyio.fail_after(get_ops_settings().ready_timeout_seconds):
            ready, body = await anyio.to_thread.run_sync(check, abandon_on_cancel=True)
    except TimeoutError:
        return _unavailable("no answer within the deadline")
    return JSONResponse(body, status_code=200 if ready else 503, headers=NO_STORE)


def _unavailable(detail: str) -> JSONResponse:
    body = {"status": "unavailable", "checks": {"database": {"ok": False, "detail": detail}}}
    return JSONResponse(body, status_code=503, headers=NO_STORE)


@router.get("/metrics")
async def prometheus_metrics(request: Request) -> Response:
    """Prometheus text format; loopback callers, or a bearer token (TONGBAN_METRICS_TOKEN)."""
    settings = get_ops_settings()
    if not _may_scrape(request, settings.metrics_token):
        raise DomainError(
            "metrics_forbidden",
            "指标仅对本机或持有令牌的采集端开放。",
            "Metrics are served to loopback callers or with the metrics token only.",
            status=403,
        )
    url = request.app.state.database_url if settings.metrics_database else None
    body = await run_in_threadpool(metrics.exposition, url)
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers=NO_STORE)


def _may_scrape(request: Request, token: str) -> bool:
    if token:
        given = request.headers.get("authorization", "")
        if hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return True
    # Behind a trusted proxy uvicorn puts the forwarded client here, so a request relayed
    # by nginx on the same machine is not mistaken for a local one.
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
