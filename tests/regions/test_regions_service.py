"""Regions and departments on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tongban.errors import Invalid, NotFound
from tongban.kit.ids import make_uscc
from tongban.regions import rules
from tongban.regions import service as regions_service
from tongban.regions.schemas import DepartmentCreate


def _county(session: Session) -> None:
    for code, name in (("640000", "宁夏回族自治区"), ("640400", "固原市"), ("640425", "彭阳县")):
        regions_service.upsert_region(session, code=code, name=name)


def test_region_levels_and_parents() -> None:
    codes = ("640000", "640400", "640425", "640425100000")
    assert [rules.level_of(c) for c in codes] == [1, 2, 3, 4]
    assert rules.parent_of("640425100000") == "640425"
    assert rules.parent_of("640425") == "640400"
    assert rules.region_prefix("640400") == "6404"
    assert not rules.is_valid_code("64042")


def test_regions_need_parents_and_valid_codes(session: Session) -> None:
    with pytest.raises(NotFound):
        regions_service.upsert_region(session, code="640425", name="彭阳县")
    with pytest.raises(Invalid) as caught:
        regions_service.upsert_region(session, code="abc", name="?")
    assert caught.value.code == "invalid_region_code"
    _county(session)
    renamed = regions_service.upsert_region(session, code="640425", name="彭阳县（改）")
    assert (renamed.level, renamed.parent_code, renamed.name) == (3, "640400", "彭阳县（改）")


def test_departments_validate_credit_codes_and_filter_by_region(session: Session) -> None:
    _county(session)
    code = make_uscc("11640425MB90003TB")
    bad = code[:-1] + ("0" if code[-1] != "0" else "1")
    with pytest.raises(Invalid) as caught:
        regions_service.upsert_department(
            session, DepartmentCreate(code=bad, name="错码局", region_code="640425")
        )
    assert caught.value.code == "invalid_credit_code"
    regions_service.upsert_department(
        session, DepartmentCreate(code=code.lower(), name="测试局", region_code="640425")
    )
    assert regions_service.get_department(session, code).name == "测试局"
    assert [d.code for d in regions_service.list_departments(session, "640400")] == [code]
    assert regions_service.list_departments(session, "640100") == []
