"""Catalog service on SQLite and PostgreSQL: upsert, read, versions, bundles, errors."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from tongban.catalog import service
from tongban.catalog.models import SearchToken, ServiceItem
from tongban.catalog.schemas import BundleCreate, ItemCreate
from tongban.db import session_factory
from tongban.errors import Conflict, Invalid, NotFound

MakeItem = Callable[..., ItemCreate]


def test_upsert_and_get(county: Session, make_item: MakeItem) -> None:
    created = service.upsert_item(county, data=make_item())
    assert created.version == 1
    assert created.department_name == "测试局甲"
    assert created.region_code == "640425"
    assert [m.code for m in created.materials] == ["M01"]

    read = service.get_item(county, code="TEST-0001")
    assert read == created
    assert service.get_item_by_id(county, item_id=created.id) == created
    assert service.material_by_id(county, material_id=created.materials[0].id).name == "申请书"


def _with_field(item: ItemCreate, name: str, spec: dict[str, object]) -> ItemCreate:
    schema = {**item.form_schema, "properties": {**item.form_schema["properties"], name: spec}}
    return item.model_copy(update={"form_schema": schema})


def test_an_item_collects_only_declared_fields(county: Session, make_item: MakeItem) -> None:
    saved = service.upsert_item(county, data=make_item())
    income = {"type": "number", "title": "家庭月收入（元）", "minimum": 0}
    with pytest.raises(Invalid) as undeclared:
        service.upsert_item(county, data=_with_field(make_item(), "income", income))
    assert undeclared.value.code == "form_field_undeclared"
    [problem] = undeclared.value.details["problems"]
    assert problem["field"] == "form_schema.properties.income.x-privacy"
    assert "income" in undeclared.value.message_zh and "income" in undeclared.value.message_en

    shown_plain = {"category": "个人财产信息", "level": "important", "personal": "sensitive"}
    invalid = _with_field(make_item(), "income", {**income, "x-privacy": shown_plain})
    with pytest.raises(Invalid) as caught:
        service.upsert_item(county, data=invalid)
    assert caught.value.code == "form_field_declaration_invalid"
    assert [p["field"] for p in caught.value.details["problems"]] == [
        "form_schema.properties.income.x-privacy.purpose",
    ]
    assert service.get_item(county, code=saved.code) == saved  # nothing was written

    declared = {**shown_plain, "mask": "full", "purpose": "用于核定保障金额"}
    updated = service.upsert_item(
        county, data=_with_field(make_item(), "income", {**income, "x-privacy": declared})
    )
    assert updated.version == 2
    assert updated.form_schema["properties"]["income"]["x-privacy"] == declared


def test_unknown_codes_raise_specific_not_found(county: Session) -> None:
    with pytest.raises(NotFound) as item:
        service.get_item(county, code="nope")
    assert item.value.code == "item_not_found"
    with pytest.raises(NotFound) as by_id:
        service.get_item_by_id(county, item_id=999_999)
    assert by_id.value.code == "item_not_found"
    with pytest.raises(NotFound) as bundle:
        service.get_bundle(county, code="nope")
    assert bundle.value.code == "bundle_not_found"
    with pytest.raises(NotFound) as material:
        service.material_by_id(county, material_id=999_999)
    assert material.value.code == "material_not_found"


def test_update_bumps_version_and_keeps_material_ids(county: Session, make_item: MakeItem) -> None:
    first = service.upsert_item(county, data=make_item())
    materials = [{"code": "M01", "name": "申请书（新版）"}, {"code": "M02", "name": "身份证"}]
    second = service.upsert_item(county, data=make_item(promised_limit_days=3, materials=materials))
    assert second.version == 2
    assert second.promised_limit_days == 3
    assert second.materials[0].id == first.materials[0].id  # uploads keep pointing at it
    assert [m.name for m in second.materials] == ["申请书（新版）", "身份证"]

    # a material-only edit is still a new version of the item
    fewer = make_item(promised_limit_days=3, materials=materials[:1])
    third = service.upsert_item(county, data=fewer)
    assert third.version == 3
    assert [m.code for m in third.materials] == ["M01"]


def test_unchanged_upsert_writes_nothing(county: Session, make_item: MakeItem) -> None:
    service.upsert_item(county, data=make_item())
    again = service.upsert_item(county, data=make_item())
    assert again.version == 1


def test_expected_version_detects_lost_update(county: Session, make_item: MakeItem) -> None:
    service.upsert_item(county, data=make_item())
    service.upsert_item(county, data=make_item(promised_limit_days=4), expected_version=1)
    with pytest.raises(Conflict) as caught:
        service.upsert_item(county, data=make_item(promised_limit_days=2), expected_version=1)
    assert caught.value.code == "item_version_conflict"
    assert service.get_item(county, code="TEST-0001").promised_limit_days == 4


def test_concurrent_sessions_conflict_on_the_version_column(
    county: Session, make_item: MakeItem, clean_db: str
) -> None:
    service.upsert_item(county, data=make_item())
    mine = county.scalar(select(ServiceItem).where(ServiceItem.code == "TEST-0001"))
    assert mine is not None
    county.commit()  # sessions keep loaded values after commit: ``mine`` stays at version 1
    other = session_factory(clean_db)()
    try:
        theirs = service.upsert_item(other, data=make_item(promised_limit_days=1))
        other.commit()
        assert theirs.version == 2
        mine.promised_limit_days = 2  # an edit of the stale copy
        with pytest.raises(StaleDataError):
            county.flush()
    finally:
        other.close()


def test_invalid_item_is_rejected_and_not_stored(county: Session, make_item: MakeItem) -> None:
    with pytest.raises(Invalid) as caught:
        service.upsert_item(county, data=make_item(promised_limit_days=30))
    assert caught.value.code == "promised_exceeds_statutory"
    with pytest.raises(Invalid) as unknown:
        service.upsert_item(county, data=make_item(department_code="11640425MB99999TB0"))
    assert unknown.value.code == "unknown_department"
    with pytest.raises(Invalid) as joint:
        service.upsert_item(county, data=make_item(joint_department_codes=["nope"]))
    assert joint.value.code == "unknown_department"
    assert county.scalar(select(func.count()).select_from(ServiceItem)) == 0


def test_list_items_pages_and_filters(
    county: Session, make_item: MakeItem, dept_codes: tuple[str, str]
) -> None:
    for n in range(5):
        department = dept_codes[n % 2]
        service.upsert_item(
            county, data=make_item(code=f"T-{n}", name=f"事项{n}", department_code=department)
        )
    page = service.list_items(county, page=2, size=2)
    assert (page.total, page.page, page.size) == (5, 2, 2)
    assert [i.code for i in page.items] == ["T-2", "T-3"]
    only_b = service.list_items(county, department_code=dept_codes[1])
    assert [i.code for i in only_b.items] == ["T-1", "T-3"]
    assert only_b.items[0].department_name == "测试局乙"


def test_search_tokens_are_rebuilt_on_update(county: Session, make_item: MakeItem) -> None:
    item = service.upsert_item(county, data=make_item(name="防汛物资储备登记"))
    assert [i.code for i in service.search_items(county, q="防汛").items] == [item.code]
    service.upsert_item(county, data=make_item(name="草原防火许可"))
    assert service.search_items(county, q="防汛").total == 0
    assert service.search_items(county, q="草原防火").items[0].code == item.code
    tokens = county.scalars(select(SearchToken.token).where(SearchToken.item_id == item.id))
    assert "防汛" not in set(tokens)


def test_empty_query_is_rejected(county: Session) -> None:
    for q in ("", "   ", "\t\n"):
        with pytest.raises(Invalid) as caught:
            service.search_items(county, q=q)
        assert caught.value.code == "empty_query"
        with pytest.raises(Invalid):
            service.search_bundles(county, q=q)


def _two_items(county: Session, make_item: MakeItem, dept_codes: tuple[str, str]) -> None:
    service.upsert_item(county, data=make_item(code="A", name="甲事项"))
    service.upsert_item(
        county, data=make_item(code="B", name="乙事项", department_code=dept_codes[1])
    )


def bundle_data(dept: str, **overrides: object) -> BundleCreate:
    data: dict[str, object] = {
        "code": "b1",
        "name": "测试一件事",
        "aliases": ["联办测试"],
        "item_codes": ["A", "B"],
        "promised_limit_days": 1,
        "statutory_limit_days": 3,
        "lead_department_code": dept,
    }
    data.update(overrides)
    return BundleCreate.model_validate(data)


def test_bundle_upsert_get_list_search(
    county: Session, make_item: MakeItem, dept_codes: tuple[str, str]
) -> None:
    _two_items(county, make_item, dept_codes)
    created = service.upsert_bundle(county, data=bundle_data(dept_codes[0]))
    assert [i.code for i in created.items] == ["A", "B"]
    assert created.items[1].department_name == "测试局乙"
    # reordering keeps both entries and their order
    reordered = service.upsert_bundle(
        county, data=bundle_data(dept_codes[0], item_codes=["B", "A"])
    )
    assert [i.code for i in reordered.items] == ["B", "A"]
    assert service.get_bundle(county, code="b1") == reordered
    assert [b.code for b in service.list_bundles(county)] == ["b1"]
    assert [b.code for b in service.search_bundles(county, q="联办")] == ["b1"]
    assert service.search_bundles(county, q="不相干") == []


def test_bundle_rules_are_enforced(
    county: Session, make_item: MakeItem, dept_codes: tuple[str, str]
) -> None:
    _two_items(county, make_item, dept_codes)
    cases = [
        (bundle_data(dept_codes[0], item_codes=["A", "ghost"]), "unknown_item"),
        (bundle_data(dept_codes[0], promised_limit_days=5), "promised_exceeds_statutory"),
        (bundle_data("11640425MB99999TB0"), "unknown_department"),
        (bundle_data(dept_codes[0], item_codes=["A"]), "bundle_too_small"),
    ]
    for data, code in cases:
        with pytest.raises(Invalid) as caught:
            service.upsert_bundle(county, data=data)
        assert caught.value.code == code
    service.upsert_item(county, data=make_item(code="C", name="丙事项"))
    with pytest.raises(Invalid) as single:
        service.upsert_bundle(county, data=bundle_data(dept_codes[0], item_codes=["A", "C"]))
    assert single.value.code == "bundle_single_department"
    assert service.list_bundles(county) == []


def test_reindex_counts_documents(
    county: Session, make_item: MakeItem, dept_codes: tuple[str, str]
) -> None:
    _two_items(county, make_item, dept_codes)
    service.upsert_bundle(county, data=bundle_data(dept_codes[0]))
    assert service.reindex(county) == 3
    assert service.search_items(county, q="甲事项").items[0].code == "A"
