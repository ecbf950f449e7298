"""Citizen-facing pages: home, search, item guides, applications, my cases, progress."""

from __future__ import annotations

from fastapi import APIRouter

from tongban.web import auth
from tongban.web.portal import account_pages, apply, case_pages, catalog_pages, signup_pages

router = APIRouter(include_in_schema=False)
router.include_router(auth.router)
router.include_router(catalog_pages.router)
router.include_router(apply.router)
router.include_router(case_pages.router)
router.include_router(signup_pages.router)
router.include_router(account_pages.router)

__all__ = ["router"]
