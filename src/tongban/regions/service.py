"""Regions (GB/T 2260) and departments (实施主体)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tongban.errors import Invalid, not_found
from tongban.kit.ids import is_valid_uscc, normalize_uscc
from tongban.regions import repository, rules
from tongban.regions.models import Department, Region
from tongban.regions.schemas import DepartmentCreate, DepartmentRead, RegionRead


def get_region(session: Session, code: str) -> RegionRead:
    region = repository.region(session, code)
    if region is None:
        raise not_found("行政区划", "Region", code)
    return RegionRead.model_validate(region)


def upsert_region(session: Session, *, code: str, name: str) -> RegionRead:
    if not rules.is_valid_code(code):
        raise Invalid(
            "invalid_region_code", f"行政区划代码无效：{code}", f"Invalid region code: {code}"
        )
    parent = rules.parent_of(code)
    if parent is not None and repository.region(session, parent) is None:
        raise not_found("上级行政区划", "Parent region", parent)
    region = repository.region(session, code)
    if region is None:
        region = Region(code=code, name=name, level=rules.level_of(code), parent_code=parent)
        session.add(region)
    else:
        region.name = name
    session.flush()
    return RegionRead.model_validate(region)


def region_path(session: Session, code: str) -> list[RegionRead]:
    """The chain from the province down to ``code``."""
    path: list[RegionRead] = []
    current: str | None = code
    while current:
        region = get_region(session, current)
        path.append(region)
        current = region.parent_code
    return list(reversed(path))


def get_department(session: Session, code: str) -> DepartmentRead:
    department = repository.department(session, code)
    if department is None:
        raise not_found("部门", "Department", code)
    return DepartmentRead.model_validate(department)


def list_departments(session: Session, region_code: str | None = None) -> list[DepartmentRead]:
    prefix = None
    if region_code:
        prefix = rules.region_prefix(region_code)
    return [DepartmentRead.model_validate(d) for d in repository.departments(session, prefix)]


def upsert_department(session: Session, data: DepartmentCreate) -> DepartmentRead:
    code = normalize_uscc(data.code)
    if not is_valid_uscc(code):
        raise Invalid(
            "invalid_credit_code",
            f"统一社会信用代码校验未通过：{code}",
            f"Unified social credit code failed its check: {code}",
        )
    get_region(session, data.region_code)
    department = repository.department(session, code)
    if department is None:
        department = Department(code=code)
        session.add(department)
    for field in ("name", "short_name", "region_code", "phone", "address"):
        setattr(department, field, getattr(data, field))
    session.flush()
    return DepartmentRead.model_validate(department)
