"""Helpers for the exchange service tests: demo people, actors, providers to register."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.access import service as access_service
from tongban.access.rules import Actor
from tongban.audit.models import AuditEntry
from tongban.demo.legacy_people import ANCHORS
from tongban.exchange.schemas import ProviderCreate

MA = ANCHORS[0]  # 马晓燕: no property, insured
LI = ANCHORS[1]  # 李建军: spelled 李建君 in the property register
LOAN = "11640425MB00009TBM201007100100001"  # 住房公积金贷款
AID = "11640425MB00010TBR051008000100001"  # 最低生活保障申请
POLICE = "11640425MB00003TBK"


@contextmanager
def county_session(url: str, sources: Path) -> Iterator[Session]:
    """The demo county with its legacy sources registered, approved, enabled and granted;
    a session the test uses (rolled back at the end) with fresh circuit breakers."""
    from tongban.db import session_factory, transaction
    from tongban.demo.exchange import load_exchange_demo
    from tongban.exchange.resilience import breakers

    breakers.reset()
    with transaction(url) as s:
        load_exchange_demo(s, sources)
    session = session_factory(url)()
    try:
        yield session
    finally:
        session.rollback()
        session.close()
        breakers.reset()


def demo_actor(session: Session, username: str) -> Actor:
    actor = access_service.actor_by_username(session, username)
    assert actor is not None, username
    return actor


def provider_data(code: str, location: str, **changes: Any) -> ProviderCreate:
    """A population provider (mapping population) under another code."""
    data: dict[str, Any] = {
        "code": code,
        "name": f"人口库（{code}）",
        "department_code": POLICE,
        "kind": "sql",
        "location": location,
        "mapping": "population",
        "services": [
            {
                "code": f"{code}.person",
                "name": "人口基本信息",
                "elements": ["DE0001", "DE0002", "DE0009"],
                "claims": {"name_matches": {"label": "姓名一致", "equals": ["DE0002"]}},
            }
        ],
    }
    return ProviderCreate.model_validate({**data, **changes})


def entries(session: Session, *, after: int = 0, **where: Any) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.seq > after).filter_by(**where)
    return list(session.scalars(query.order_by(AuditEntry.seq)))


def last_seq(session: Session) -> int:
    return max((e.seq for e in entries(session)), default=0)
