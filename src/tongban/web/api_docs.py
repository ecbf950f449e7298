"""``/docs``: Swagger UI served from the ``swagger-ui-bundle-v2`` package, never from a CDN,
under a strict Content-Security-Policy (no inline script or style: Swagger UI is started by
``static/swagger-init.js``). ReDoc is not offered (one viewer is enough; ``redoc_url=None``).

Swagger UI's files are named by its version (``/docs/assets/5.31.0/swagger-ui.css``): a new
release of the package changes the address, so they are cached for a year, immutable.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from starlette.exceptions import HTTPException
from swagger_ui_bundle import swagger_ui_path

from tongban.web.static_files import IMMUTABLE, static_url

DOCS_URL = "/docs"
OPENAPI_URL = "/openapi.json"
ASSETS_DIR = Path(str(swagger_ui_path))
VERSION = ASSETS_DIR.name.removeprefix("swagger-ui-")  # the bundled Swagger UI's version
ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
DOCS_CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",  # Swagger UI's icons are data: SVGs in its stylesheet
        "connect-src 'self'",  # the OpenAPI document and "Try it out" requests
        "font-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)


def asset_url(name: str) -> str:
    return f"{DOCS_URL}/assets/{VERSION}/{name}"


def docs_page(title: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<link rel="stylesheet" href="{asset_url("swagger-ui.css")}">
<link rel="icon" type="image/png" href="{asset_url("favicon-32x32.png")}">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{OPENAPI_URL}"></div>
<noscript><a href="{OPENAPI_URL}">{OPENAPI_URL}</a></noscript>
<script src="{asset_url("swagger-ui-bundle.js")}"></script>
<script src="{static_url("swagger-init.js")}"></script>
</body>
</html>
"""


def install_api_docs(app: FastAPI) -> None:
    """Add ``/docs`` and its assets to the app (create the app with ``docs_url=None``), and
    serve the OpenAPI document with each operation's error statuses (``tongban.openapi``)."""
    from tongban.openapi import openapi_document

    app.openapi = lambda: openapi_document(app)  # type: ignore[method-assign]
    page = docs_page(f"{app.title} — API 文档")

    def docs() -> HTMLResponse:
        return HTMLResponse(
            page, headers={"content-security-policy": DOCS_CSP, "cache-control": "no-cache"}
        )

    app.add_api_route(DOCS_URL, docs, include_in_schema=False)
    app.add_api_route(DOCS_URL + "/assets/{version}/{name}", docs_asset, include_in_schema=False)


def docs_asset(version: str, name: str) -> FileResponse:
    media_type = ASSETS.get(name)
    if version != VERSION or media_type is None:
        raise HTTPException(status_code=404)
    return FileResponse(
        ASSETS_DIR / name, media_type=media_type, headers={"cache-control": IMMUTABLE}
    )
