"""A material replaced by shared data (免提交) names what replaces it; item save checks it."""

from __future__ import annotations

from typing import Any

from tongban.cases.submission import must_upload
from tongban.catalog.rules import ServiceOffer, item_problems
from tongban.catalog.schemas import ItemCreate, MaterialRead

OFFERED = {
    "population.person_basic": ServiceOffer(frozenset({"DE0001", "DE0002"}), frozenset()),
    "realestate.ownership": ServiceOffer(frozenset({"DE0010"}), frozenset({"owns_property"})),
}


def item(replacement: dict[str, Any]) -> ItemCreate:
    return ItemCreate.model_validate(
        {
            "code": "TEST-1",
            "name": "测试事项",
            "item_type": "20",
            "department_code": "11640425MB00009TBM",
            "legal_basis": "测试",
            "statutory_limit_days": 5,
            "promised_limit_days": 3,
            "materials": [
                {"code": "M01", "name": "无其他住房证明", "replaced_by_data": replacement}
            ],
        }
    )


def codes(replacement: dict[str, Any], offered: Any = OFFERED) -> list[str]:
    return [p.code for p in item_problems(item(replacement), offered=offered)]


def test_a_well_formed_replacement_has_no_problem() -> None:
    claim = {"service": "realestate.ownership", "purpose": "p", "claim": "owns_property"}
    assert codes({**claim, "holds": False}) == []
    compare = {"DE0001": "applicant.id_number", "DE0002": "applicant.name"}
    assert codes({"service": "population.person_basic", "purpose": "p", "compare": compare}) == []


def test_unknown_services_claims_elements_and_sources_are_problems_in_two_languages() -> None:
    unknown = item_problems(
        item({"service": "marriage.status", "purpose": "p", "claim": "married"}), offered=OFFERED
    )
    assert [p.code for p in unknown] == ["replacement_unknown_service"]
    assert "marriage.status" in unknown[0].message_zh and "not registered" in unknown[0].message_en
    assert unknown[0].field == "materials.M01.replaced_by_data"
    assert codes({"service": "realestate.ownership", "purpose": "p", "claim": "rich"}) == [
        "replacement_unknown_claim"
    ]
    wrong = {"service": "population.person_basic", "purpose": "p", "compare": {"DE0009": "form.x"}}
    assert codes(wrong) == ["replacement_unknown_source", "replacement_unknown_element"]
    assert codes({"service": "population.person_basic", "purpose": "p"}) == [
        "replacement_needs_check"
    ]


def test_without_an_exchange_registry_only_the_shape_is_checked() -> None:
    assert codes({"service": "marriage.status", "purpose": "p", "claim": "x"}, offered=None) == []


def test_a_replaced_material_is_not_uploaded() -> None:
    base = {"id": 1, "code": "M01", "name": "户口簿"}
    replaced = {"service": "population.person_basic", "purpose": "p", "compare": {}}
    assert must_upload(MaterialRead.model_validate(base))
    assert not must_upload(MaterialRead.model_validate({**base, "replaced_by_data": replaced}))
    assert not must_upload(MaterialRead.model_validate({**base, "replaced_by": "电子证照"}))
    optional = {**base, "necessity": "deferrable"}
    assert not must_upload(MaterialRead.model_validate(optional))
