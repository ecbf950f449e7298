"""The one list of JSON API routers."""

from __future__ import annotations

from fastapi import APIRouter

API_PREFIX = "/api/v1"


def api_routers() -> list[APIRouter]:
    from tongban.access.account_router import router as account_router
    from tongban.access.router import router as access_router
    from tongban.audit.router import router as audit_router
    from tongban.cases.router import router as cases_router
    from tongban.catalog.router import router as catalog_router
    from tongban.exchange.router import router as exchange_router
    from tongban.feedback.router import router as feedback_router
    from tongban.insight.router import router as insight_router
    from tongban.notify.router import router as notify_router
    from tongban.workdays.router import router as workdays_router

    return [
        access_router,
        account_router,
        catalog_router,
        cases_router,
        workdays_router,
        audit_router,
        exchange_router,
        feedback_router,
        insight_router,
        notify_router,
    ]
