"""A material replaced by shared data (免提交) names what replaces it; item save checks it."""

from __future__ import annotations

from typing import Any

from tongban.cases.submission import must_upload
from tongban.catalog.rules import ServiceOffer, item_problems
from tongban.catalog.schemas import ItemCreate, MaterialRead
from tongban.demo.loader import read

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


def marriage(subjects: list[Any], compare: dict[str, str] | None = None) -> ItemCreate:
    """A material about two people, the other one's number and name on the form."""
    form = next(i for i in read("items") if i["name"] == "结婚登记")["form_schema"]
    replacement = {
        "service": "population.person_basic",
        "purpose": "p",
        "compare": {"DE0001": "applicant.id_number", "DE0002": "applicant.name"}
        if compare is None
        else compare,
        "subjects": subjects,
    }
    data = item(replacement).model_dump()
    data["materials"][0]["name"] = "男女双方居民身份证"
    return ItemCreate.model_validate({**data, "form_schema": form})


PARTNER = {
    "id_number": "form.partner_id",
    "label": "另一方",
    "compare": {"DE0001": "form.partner_id", "DE0002": "form.partner_name"},
}


def test_a_material_about_two_people_names_each_subject() -> None:
    both = marriage(["applicant.id_number", PARTNER])  # a plain string: the number's source
    assert [p.code for p in item_problems(both, offered=OFFERED)] == []
    replacement = both.materials[0].replaced_by_data
    assert replacement is not None
    checked = replacement.checked_subjects()
    assert [s.id_number for s in checked] == ["applicant.id_number", "form.partner_id"]
    assert checked[0].compare == {"DE0001": "applicant.id_number", "DE0002": "applicant.name"}
    assert checked[1].compare == PARTNER["compare"]
    # Backward compatible: without subjects the applicant alone is checked.
    alone = item({"service": "population.person_basic", "purpose": "p", "compare": {}})
    assert alone.materials[0].replaced_by_data is not None
    assert [s.id_number for s in alone.materials[0].replaced_by_data.checked_subjects()] == [
        "applicant.id_number"
    ]


def test_nonsense_subjects_are_refused() -> None:
    def problems(data: ItemCreate) -> list[str]:
        return [p.code for p in item_problems(data, offered=OFFERED)]

    spouse = {**PARTNER, "id_number": "form.spouse_id"}
    assert problems(marriage(["applicant.id_number", spouse])) == ["replacement_unknown_subject"]
    assert problems(marriage([{**PARTNER, "id_number": "applicant.name"}])) == [
        "replacement_unknown_subject"
    ]
    assert problems(marriage(["applicant.id_number", "applicant.id_number"])) == [
        "replacement_duplicate_subject"
    ]
    # The other person compared with the applicant's own name: refused, with a reason.
    borrowed = item_problems(marriage(["applicant.id_number", "form.partner_id"]), offered=OFFERED)
    assert [p.code for p in borrowed] == ["replacement_subject_compare"]
    assert (
        "applicant.name" in borrowed[0].message_zh and "form.partner_id" in borrowed[0].message_en
    )
    # Each subject compares something (or the replacement asks a claim).
    assert problems(marriage(["applicant.id_number", PARTNER], compare={})) == [
        "replacement_needs_check"
    ]
    unknown = {**PARTNER, "compare": {"DE0009": "form.partner_id", "DE0002": "form.nope"}}
    assert problems(marriage(["applicant.id_number", unknown])) == [
        "replacement_unknown_source",
        "replacement_unknown_element",
    ]
