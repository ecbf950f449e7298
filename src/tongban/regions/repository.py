from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.regions.models import Department, Region


def region(session: Session, code: str) -> Region | None:
    return session.get(Region, code)


def department(session: Session, code: str) -> Department | None:
    return session.scalar(select(Department).where(Department.code == code))


def departments(session: Session, region_prefix: str | None = None) -> list[Department]:
    query = select(Department).order_by(Department.id)
    if region_prefix:
        query = query.where(Department.region_code.startswith(region_prefix))
    return list(session.scalars(query))


def children(session: Session, parent_code: str | None) -> list[Region]:
    return list(
        session.scalars(
            select(Region).where(Region.parent_code == parent_code).order_by(Region.code)
        )
    )
