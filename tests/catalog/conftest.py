"""Catalog fixtures: a minimal valid item and a county with two departments to own it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tongban.catalog.schemas import ItemCreate
from tongban.kit.ids import make_uscc
from tongban.regions import service as regions_service
from tongban.regions.schemas import DepartmentCreate

DEPT_A = make_uscc("11640425MB90001TB")
DEPT_B = make_uscc("11640425MB90002TB")

MakeItem = Callable[..., ItemCreate]


def _item_data(**overrides: Any) -> ItemCreate:
    data: dict[str, Any] = {
        "code": "TEST-0001",
        "name": "测试事项登记",
        "item_type": "01",
        "department_code": DEPT_A,
        "legal_basis": "《测试条例》第一条",
        "statutory_limit_days": 20,
        "promised_limit_days": 5,
        "online_depth": "online_apply",
        "materials": [{"code": "M01", "name": "申请书"}],
        "form_schema": {
            "type": "object",
            "properties": {
                "reason": {
                    "type": "string",
                    "title": "申请理由",
                    "maxLength": 100,
                    "x-privacy": {
                        "category": "业务办理信息",
                        "level": "general",
                        "personal": "personal",
                        "mask": "full",
                        "purpose": "用于审查申请事由",
                    },
                }
            },
            "required": ["reason"],
        },
    }
    data.update(overrides)
    return ItemCreate.model_validate(data)


@pytest.fixture
def make_item() -> MakeItem:
    """Build a valid ItemCreate owned by department A; keyword arguments override fields."""
    return _item_data


@pytest.fixture
def dept_codes() -> tuple[str, str]:
    return DEPT_A, DEPT_B


@pytest.fixture
def county(session: Session) -> Session:
    """A clean database with 彭阳县 and two departments (A and B)."""
    for code, name in (("640000", "宁夏回族自治区"), ("640400", "固原市"), ("640425", "彭阳县")):
        regions_service.upsert_region(session, code=code, name=name)
    for code, name in ((DEPT_A, "测试局甲"), (DEPT_B, "测试局乙")):
        regions_service.upsert_department(
            session, DepartmentCreate(code=code, name=name, region_code="640425")
        )
    return session
