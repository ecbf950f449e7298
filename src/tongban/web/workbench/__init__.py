"""Staff pages: acceptance queue, department task queue, case detail with its actions."""

from __future__ import annotations

from fastapi import APIRouter

from tongban.web.workbench import case_page, queues

router = APIRouter(include_in_schema=False)
router.include_router(queues.router)
router.include_router(case_page.router)

__all__ = ["router"]
