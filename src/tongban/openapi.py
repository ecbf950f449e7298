"""The OpenAPI document: every operation declares the error statuses it can answer.

Most of them follow from how a route is built, so they are derived here, in one place,
from each route's dependencies and parameters rather than listed in every router:

- a route that needs a signed-in actor (``current_actor``, ``require(...)``) → 401, 403;
  one that takes an optional actor → 401 (a bearer token that is no longer valid is refused);
- a path parameter → 404 (no such record, or not visible to you; a path with a control
  character names nothing);
- a request body → 400 (not JSON, not a form), 413 (over the size limit);
- a write (POST, PUT, PATCH, DELETE) → 409 (changed by someone else: ``concurrent_update``);
- a GET that is audited for anonymous callers (``WritesOnRead``: lookups by query code) → 429;
- every API route → 422 (invalid parameters; a query with a control character).

What only the router knows (a throttle inside a service, 409 on a GET, 415, 503 from a
remote register) it declares itself with ``responses=error_responses(...)``; those are kept.
The generic list that ``create_app`` attaches to every API route is replaced by this one.
Routes that need a signed-in actor also name the bearer scheme (``security``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from tongban.access.dependencies import current_actor, optional_actor
from tongban.api import API_PREFIX, api_routers
from tongban.deps import writes_on_read
from tongban.errors import ERROR_RESPONSES, ErrorResponse
from tongban.openapi_text import document_text_policy

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}
DESCRIPTIONS: dict[int, str] = {
    **{
        status: str(entry["description"])
        for status, entry in ERROR_RESPONSES.items()
        if isinstance(status, int)
    },
    415: "unsupported media type",
    502: "a remote register answered with an error",
    503: "a remote register is unavailable; try again later",
    504: "a remote register did not answer in time",
}
BEARER = "bearer"
RETRY_AFTER = {
    "description": "seconds to wait before trying again",
    "schema": {"type": "integer", "minimum": 1},
}


def derived_statuses(route: APIRoute, method: str) -> set[int]:
    """The error statuses that follow from the route's shape (see the module's docstring)."""
    calls = {dependant.call for dependant in _dependants(route.dependant)}
    statuses = {422}
    if current_actor in calls or any(hasattr(call, "permission") for call in calls):
        statuses |= {401, 403}
    if optional_actor in calls:
        statuses.add(401)
    if route.dependant.path_params:
        statuses.add(404)
    if route.dependant.body_params:
        statuses |= {400, 413}
    if method in WRITES:
        statuses.add(409)
    if writes_on_read in calls:
        statuses.add(429)
    return statuses


def needs_sign_in(route: APIRoute) -> bool:
    calls = {dependant.call for dependant in _dependants(route.dependant)}
    return current_actor in calls


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _dependants(sub)


def api_routes() -> Iterator[APIRoute]:
    """The API's routes as their routers declare them (path without the prefix, their own
    ``responses`` without the generic list that ``create_app`` adds on including them)."""
    for router in api_routers():
        for route in router.routes:
            if isinstance(route, APIRoute) and route.include_in_schema:
                yield route


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """``app.openapi``: FastAPI's document with the error statuses of each API operation."""
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=app.openapi_version,
        description=app.description,
        routes=app.routes,
    )
    _add_components(document)
    document_text_policy(document)
    for route in api_routes():
        for method in route.methods or ():
            operation = document["paths"][API_PREFIX + route.path_format][method.lower()]
            _set_error_responses(operation, derived_statuses(route, method), route.responses)
            if needs_sign_in(route):
                operation["security"] = [{BEARER: []}]
    app.openapi_schema = document
    return document


def _set_error_responses(
    operation: dict[str, Any], derived: set[int], own: dict[int | str, Any]
) -> None:
    responses: dict[str, Any] = operation["responses"]
    own_errors = {int(status) for status in own if int(status) >= 400}
    wanted = derived | own_errors
    for key in [k for k in responses if k.isdigit() and int(k) >= 400]:
        if int(key) not in wanted:
            del responses[key]
    for status in sorted(wanted):
        entry = responses.setdefault(str(status), {})
        entry.setdefault("description", DESCRIPTIONS.get(status, "error"))
        entry.setdefault("content", {"application/json": {"schema": ERROR_REF}})
        if status == 429:
            entry.setdefault("headers", {"Retry-After": RETRY_AFTER})
    operation["responses"] = dict(sorted(responses.items()))


def _add_components(document: dict[str, Any]) -> None:
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    error_schema = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(error_schema.pop("$defs", {}))
    schemas.setdefault("ErrorResponse", error_schema)
    components.setdefault("securitySchemes", {})[BEARER] = {
        "type": "http",
        "scheme": "bearer",
        "description": "POST /api/v1/auth/token → access_token",
    }
