"""Loading the demo county into SQLite and PostgreSQL: complete, usable and idempotent."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tongban.access import service as access_service
from tongban.catalog import service as catalog_service
from tongban.catalog.models import SearchToken
from tongban.db import transaction
from tongban.demo.loader import DEMO_LOGINS, load_reference_data, read
from tongban.regions import service as regions_service


def snapshot(session: Session) -> dict[str, object]:
    items = catalog_service.list_items(session, size=100).items
    return {
        "items": [(i.code, catalog_service.get_item(session, code=i.code).version) for i in items],
        "bundles": [
            (b.code, [i.code for i in b.items]) for b in catalog_service.list_bundles(session)
        ],
        "departments": [d.code for d in regions_service.list_departments(session)],
        "tokens": session.scalar(select(func.count()).select_from(SearchToken)),
    }


def test_everything_is_loaded(demo_session: Session) -> None:
    assert catalog_service.list_items(demo_session).total == len(read("items"))
    assert len(catalog_service.list_bundles(demo_session)) == len(read("bundles"))
    assert len(regions_service.list_departments(demo_session, "640425")) == len(read("departments"))
    assert [r.code for r in regions_service.region_path(demo_session, "640425100000")] == [
        "640000", "640400", "640425", "640425100000"
    ]  # fmt: skip


def test_demo_logins_work(demo_session: Session) -> None:
    username, password, role, _ = DEMO_LOGINS[0]
    actor = access_service.authenticate(demo_session, username=username, password=password)
    assert actor.role == role
    reviewer = next(login for login in DEMO_LOGINS if login[0] == "reviewer_scj")
    actor = access_service.authenticate(demo_session, username=reviewer[0], password=reviewer[1])
    assert actor.department_code == next(
        d["code"] for d in read("departments") if d["name"] == "彭阳县市场监督管理局"
    )


def test_loading_twice_changes_nothing(demo_db: str) -> None:
    with transaction(demo_db) as session:
        before = snapshot(session)
    with transaction(demo_db) as session:
        load_reference_data(session)
    with transaction(demo_db) as session:
        assert snapshot(session) == before
    assert all(version == 1 for _, version in before["items"])  # type: ignore[attr-defined]
