"""长辈模式 (elder mode): a switch that needs no login and no JavaScript.

The choice lives in a long-lived cookie, like the language. Pages read it through
``template_context`` (base.html puts ``theme-elder`` on <html>); the apply form
reads it through ``is_on`` so the case records whether it was filed in elder mode
(indicator I2 适老化模式使用率).

This module imports nothing from ``rendering``: rendering imports it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

COOKIE = "tongban_elder"
COOKIE_MAX_AGE = 365 * 24 * 3600  # a year: an elderly visitor should not have to switch again
ON_PATH = "/elder-mode/on"
OFF_PATH = "/elder-mode/off"

router = APIRouter(tags=["web"], include_in_schema=False)


def is_on(request: Request) -> bool:
    return request.cookies.get(COOKIE) == "1"


def safe_path(target: str | None) -> str:
    """``target`` when it is a path on this site, else the home page (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    # Browsers read "\" as "/" and drop tabs/newlines, so "/\evil.com" would leave the site.
    if "\\" in target or any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def _here(request: Request) -> str:
    query = f"?{request.url.query}" if request.url.query else ""
    return request.url.path + query


def template_context(request: Request) -> dict[str, Any]:
    """What base.html needs: whether the theme is on and where the switch points."""
    back = quote(_here(request), safe="")
    return {
        "elder_mode": is_on(request),
        "elder_on_url": f"{ON_PATH}?next={back}",
        "elder_off_url": f"{OFF_PATH}?next={back}",
    }


@router.get(ON_PATH)
def switch_on(next: str | None = None) -> RedirectResponse:
    response = RedirectResponse(safe_path(next), status_code=303)
    response.set_cookie(COOKIE, "1", max_age=COOKIE_MAX_AGE, samesite="lax", httponly=True)
    return response


@router.get(OFF_PATH)
def switch_off(next: str | None = None) -> RedirectResponse:
    response = RedirectResponse(safe_path(next), status_code=303)
    response.delete_cookie(COOKIE, samesite="lax", httponly=True)
    return response
