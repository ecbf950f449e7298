"""Load the demo county (彭阳县 640425): regions, departments, catalog and demo users.

Everything goes through the domains' service functions, so the demo data passes
the same validation as production data. Loading is idempotent: a second run
changes nothing. The people in users.json are fictional; their identity numbers
are generated with valid check digits, not taken from anyone.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files
from typing import Any

from sqlalchemy.orm import Session

from tongban.access import service as access_service
from tongban.catalog import service as catalog_service
from tongban.catalog.schemas import BundleCreate, ItemCreate
from tongban.errors import Conflict
from tongban.regions import service as regions_service
from tongban.regions.schemas import DepartmentCreate

DEMO_REGION = "640425"


def read(name: str) -> Any:
    """One of the demo data files (regions, departments, items, bundles, users)."""
    return json.loads(files("tongban.demo").joinpath(f"{name}.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _logins() -> list[tuple[str, str, str, str]]:
    return [(u["username"], u["password"], u["role"], u["description_zh"]) for u in read("users")]


DEMO_LOGINS: list[tuple[str, str, str, str]] = _logins()
"""(username, password, role, description_zh) of every demo user, for the CLI to print."""


def load_reference_data(session: Session) -> None:
    """Upsert the demo county into ``session`` (the caller commits)."""
    load_places_and_people(session)
    load_catalog(session)


def load_places_and_people(session: Session) -> None:
    """Regions, departments and the demo users."""
    # Parents first: a region's parent must exist before it.
    for region in sorted(read("regions"), key=lambda r: (len(r["code"]), r["code"])):
        regions_service.upsert_region(session, code=region["code"], name=region["name"])
    for department in read("departments"):
        regions_service.upsert_department(session, DepartmentCreate.model_validate(department))
    for user in read("users"):
        _ensure_user(session, user)


def load_catalog(session: Session) -> None:
    """The service items and the 一件事 bundles."""
    for item in read("items"):
        catalog_service.upsert_item(session, data=ItemCreate.model_validate(item))
    for bundle in read("bundles"):
        catalog_service.upsert_bundle(session, data=BundleCreate.model_validate(bundle))


def _ensure_user(session: Session, user: dict[str, Any]) -> None:
    try:
        access_service.create_user(
            session,
            username=user["username"],
            password=user["password"],
            role=user["role"],
            display_name=user.get("display_name", ""),
            region_code=user.get("region_code"),
            department_code=user.get("department_code"),
            id_number=user.get("id_number"),
            phone=user.get("phone"),
        )
    except Conflict as exc:
        # Already loaded (or created by an operator): leave it exactly as it is.
        if exc.code != "username_taken":
            raise
