"""Staff pages: acceptance queue, department task queue, case detail with its actions."""

from __future__ import annotations

from fastapi import APIRouter

from tongban.web.workbench import account_pages, case_page, citizen_pages, queues

router = APIRouter(include_in_schema=False)
router.include_router(queues.router)
router.include_router(case_page.router)
router.include_router(citizen_pages.router)
router.include_router(account_pages.router)

__all__ = ["router"]
