"""Server-rendered pages by audience: portal (citizens), workbench (staff), admin."""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    from tongban.web.auditor import router as auditor_router
    from tongban.web.elder import router as elder_router
    from tongban.web.messages import router as messages_router
    from tongban.web.portal import router as portal_router
    from tongban.web.portal.data_access import router as data_access_router
    from tongban.web.portal.feedback_pages import router as feedback_router
    from tongban.web.workbench import router as workbench_router
    from tongban.web.workbench.dashboard_pages import router as dashboard_router
    from tongban.web.workbench.feedback_pages import router as handling_router
    from tongban.web.workbench.insight_pages import router as insight_router

    return [
        portal_router,
        data_access_router,
        feedback_router,
        workbench_router,
        handling_router,
        insight_router,
        dashboard_router,
        auditor_router,
        elder_router,
        messages_router,
    ]
