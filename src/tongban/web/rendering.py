"""Jinja2 rendering for the web pages: environment, filters, flash messages and error pages."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from tongban.cases.rules import ACTION_LABELS, STATE_LABELS, TASK_STATE_LABELS
from tongban.errors import DomainError
from tongban.kit.clock import beijing_text, deadline_text
from tongban.web import elder, i18n, labels
from tongban.web.csrf import FIELD as CSRF_FIELD
from tongban.web.csrf import csrf_token
from tongban.web.static_files import static_url

TEMPLATES_DIR = Path(__file__).parent / "templates"
_FLASH_KEY = "flash"
# Clock status → CSS class; the page always prints the text label next to the colour.
CLOCK_CLASSES = {
    "normal": "clock-normal",
    "warning": "clock-warning",
    "overdue": "clock-overdue",
    "paused": "clock-paused",
    "not_started": "clock-idle",
    "stopped": "clock-idle",
}


def format_datetime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return beijing_text(value, fmt)


def format_date(value: date | None) -> str:
    return value.isoformat() if value else ""


def format_yuan(fen: int | None) -> str:
    fen = fen or 0
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}¥{yuan:,}.{cents:02d}"


def clock_class(status: str | None) -> str:
    return CLOCK_CLASSES.get(status or "", "clock-idle")


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # Pure label tables (no I/O): every page may translate codes it shows.
    env.globals.update(
        labels=labels,
        state_labels=STATE_LABELS,
        task_labels=TASK_STATE_LABELS,
        action_labels=ACTION_LABELS,
        static_url=static_url,
    )
    env.filters.update(
        dt=format_datetime,
        due=deadline_text,
        d=format_date,
        yuan=format_yuan,
        clock_class=clock_class,
    )
    return env


env = _environment()


def flash(request: Request, text: str, kind: str = "success") -> None:
    """Queue a message for the next page this session renders (post/redirect/get)."""
    messages = list(request.session.get(_FLASH_KEY, []))
    messages.append({"kind": kind, "text": text})
    request.session[_FLASH_KEY] = messages[-5:]


def _pop_flashes(request: Request) -> list[dict[str, str]]:
    return list(request.session.pop(_FLASH_KEY, []) or [])


def lang_url(request: Request, locale: str) -> str:
    params = {k: v for k, v in request.query_params.items() if k != "lang"}
    params["lang"] = locale
    return f"{request.url.path}?{urlencode(params)}"


class LazyCsrfToken:
    """The form token, made when a template first prints it: a page without a form (the
    catalog pages a visitor reads) then leaves the session empty, so no cookie is set and the
    page can be cached for everyone (web/page_cache.py)."""

    def __init__(self, request: Request) -> None:
        self._request = request

    def __str__(self) -> str:
        return csrf_token(self._request)

    def __html__(self) -> str:
        return str(self)

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    status: int = 200,
) -> HTMLResponse:
    gettext = i18n.gettext_for(request)
    locale: str = request.state.locale
    values: dict[str, Any] = {
        "request": request,
        "_": gettext,
        "gettext": gettext,
        "locale": locale,
        "html_lang": i18n.HTML_LANG.get(locale, "zh-CN"),
        "locales": i18n.LOCALES,
        "lang_url": lambda code: lang_url(request, code),
        "csrf_field": CSRF_FIELD,
        "csrf_token": LazyCsrfToken(request),
        "flashes": _pop_flashes(request),
        "actor": None,
        **elder.template_context(request),
    }
    values.update(context or {})
    html = env.get_template(template).render(values)
    response = HTMLResponse(html, status_code=status)
    remember_locale(request, response)
    return response


def remember_locale(request: Request, response: Response) -> None:
    """?lang= switches the language for the following pages too (a cookie, no login needed)."""
    chosen = i18n.normalize_locale(request.query_params.get("lang"))
    if chosen:
        response.set_cookie(
            i18n.LANG_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="lax", httponly=True
        )


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return redirect(f"/login?next={quote(target, safe='')}")


def error_message(request: Request, error: DomainError) -> str:
    i18n.gettext_for(request)
    return error.message_en if request.state.locale == "en" else error.message_zh


def render_error(request: Request, error: DomainError) -> Response:
    """The HTML face of a DomainError: the message in the page's language, the error's status."""
    if error.status == 401 and request.method == "GET":
        return login_redirect(request)
    return render(
        request,
        "error.html",
        {
            "error": error,
            "message": error_message(request, error),
            "other_message": error.message_zh,
        },
        status=error.status,
    )


def paged(result: Any) -> dict[str, Any]:
    """Template context for one page of results: its number, and whether more follow."""
    return {"page": result.page, "has_next": result.total > result.page * result.size}
