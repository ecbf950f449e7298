"""Pure catalog rules: every data-quality check and the form-schema subset."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tongban.catalog import rules
from tongban.catalog.schemas import BundleCreate, ItemCreate
from tongban.errors import Invalid
from tongban.web.forms import fields_from_schema

# A field that may carry a person's circumstances: personal, masked in full for admins.
DECLARED = {
    "category": "业务办理信息",
    "level": "general",
    "personal": "personal",
    "mask": "full",
    "purpose": "用于审查申请事由",
}
NOT_PERSONAL = {
    "category": "业务办理信息",
    "level": "general",
    "personal": "none",
    "purpose": "用于审查",
}


def _item_data(**overrides: Any) -> ItemCreate:
    data: dict[str, Any] = {
        "code": "TEST-0001",
        "name": "测试事项登记",
        "item_type": "01",
        "department_code": "11640425MB90001TBX",
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
                    "x-privacy": DECLARED,
                }
            },
            "required": ["reason"],
        },
    }
    data.update(overrides)
    return ItemCreate.model_validate(data)


def codes(**overrides: Any) -> list[str]:
    return [p.code for p in rules.item_problems(_item_data(**overrides))]


def schema_codes(schema: dict[str, Any]) -> list[str]:
    return [p.code for p in rules.form_schema_problems(schema)]


def field(**spec: Any) -> dict[str, Any]:
    """A one-field form; the field is declared non-personal unless the test says otherwise."""
    return {"type": "object", "properties": {"f": {"x-privacy": NOT_PERSONAL, **spec}}}


def test_valid_item_has_no_problems() -> None:
    assert codes() == []


def test_promised_may_equal_statutory_but_not_exceed_it() -> None:
    assert codes(statutory_limit_days=5, promised_limit_days=5) == []
    assert codes(statutory_limit_days=5, promised_limit_days=6) == ["promised_exceeds_statutory"]


def test_immediate_item_with_zero_limits_is_fine() -> None:
    assert codes(statutory_limit_days=0, promised_limit_days=0) == []


def test_visits_need_a_reason() -> None:
    assert codes(visits_required=1) == ["visit_reason_required"]
    assert codes(visits_required=1, visit_reason="   ") == ["visit_reason_required"]
    assert codes(visits_required=1, visit_reason="需本人到场采集指纹") == []


def test_full_online_needs_zero_visits() -> None:
    problems = codes(online_depth="full_online", visits_required=1, visit_reason="面签")
    assert problems == ["full_online_needs_zero_visits"]


def test_zero_visits_offline_must_accept_mail() -> None:
    assert codes(online_depth="offline", visits_required=0) == ["zero_visits_needs_mail"]
    assert codes(online_depth="info", visits_required=0) == ["zero_visits_needs_mail"]
    assert codes(online_depth="offline", visits_required=0, accepts_mail=True) == []
    assert codes(online_depth="offline", visits_required=1, visit_reason="现场核验") == []


def test_material_codes_unique() -> None:
    materials = [{"code": "M01", "name": "甲"}, {"code": "M01", "name": "乙"}]
    assert codes(materials=materials) == ["duplicate_material_code"]


def test_all_problems_are_listed_and_first_code_is_raised() -> None:
    data = _item_data(promised_limit_days=30, visits_required=2)
    with pytest.raises(Invalid) as caught:
        rules.raise_problems(rules.item_problems(data), "事项", "The item")
    assert caught.value.code == "promised_exceeds_statutory"
    listed = [p["code"] for p in caught.value.details["problems"]]
    assert listed == ["promised_exceeds_statutory", "visit_reason_required"]
    assert "法定时限" in caught.value.message_zh


def test_raise_problems_is_silent_without_problems() -> None:
    rules.raise_problems([], "事项", "The item")


@pytest.mark.parametrize(
    "spec",
    [
        {"type": "string", "title": "姓名", "maxLength": 20, "pattern": "^[\\u4e00-\\u9fff]+$"},
        {"type": "string", "title": "日期", "format": "date"},
        {"type": "string", "title": "类型", "enum": ["甲", "乙"], "description": "选择一项"},
        {"type": "integer", "title": "人数", "minimum": 1, "maximum": 9},
        {"type": "number", "title": "金额（元）", "minimum": 0},
        {"type": "boolean", "title": "同意承诺"},
    ],
)
def test_supported_fields(spec: dict[str, Any]) -> None:
    assert schema_codes(field(**spec)) == []


def test_empty_object_schema_is_fine() -> None:
    assert schema_codes({"type": "object", "properties": {}}) == []


def test_invalid_json_schema() -> None:
    assert schema_codes({"type": "objekt"}) == ["invalid_form_schema"]
    assert schema_codes(field(type="string", title="名称", maxLength=-1)) == ["invalid_form_schema"]


def test_schema_must_be_object() -> None:
    assert schema_codes({"type": "string"}) == ["form_schema_not_object"]
    assert schema_codes({"properties": {}}) == ["form_schema_not_object"]


@pytest.mark.parametrize("field_type", ["array", "object", "null", None])
def test_unsupported_field_types(field_type: str | None) -> None:
    spec: dict[str, Any] = {"title": "字段"}
    if field_type:
        spec["type"] = field_type
    assert "form_field_unsupported_type" in schema_codes(field(**spec))


@pytest.mark.parametrize("title", [None, "", "Name only"])
def test_fields_need_chinese_titles(title: Any) -> None:
    spec: dict[str, Any] = {"type": "string"}
    if title is not None:
        spec["title"] = title
    assert schema_codes(field(**spec)) == ["form_field_needs_chinese_title"]


def test_unsupported_keywords() -> None:
    assert schema_codes(field(type="string", title="名称", minLength=2)) == [
        "form_schema_unsupported_keyword"
    ]
    assert schema_codes({"type": "object", "properties": {}, "allOf": [{"type": "object"}]}) == [
        "form_schema_unsupported_keyword"
    ]
    # keywords of the wrong type: numbers have no maxLength, strings no minimum
    assert schema_codes(field(type="integer", title="人数", maxLength=3)) == [
        "form_schema_unsupported_keyword"
    ]
    assert schema_codes(field(type="string", title="名称", minimum=3)) == [
        "form_schema_unsupported_keyword"
    ]


def test_only_date_format() -> None:
    assert schema_codes(field(type="string", title="邮箱", format="email")) == [
        "form_field_unsupported_format"
    ]


def test_malformed_keyword_values_fail_the_json_schema_check() -> None:
    # check_schema validates the regex and the title's type before our subset rules run
    assert schema_codes(field(type="string", title="编号", pattern="([")) == ["invalid_form_schema"]
    assert schema_codes(field(type="string", title=5)) == ["invalid_form_schema"]


def test_required_must_name_a_field() -> None:
    schema = {"type": "object", "properties": {}, "required": ["ghost"]}
    assert schema_codes(schema) == ["form_required_unknown_field"]


def test_item_problems_include_form_problems() -> None:
    assert codes(form_schema={"type": "array"}) == ["form_schema_not_object"]


def declared(declaration: Any, **spec: Any) -> list[rules.Problem]:
    return rules.form_schema_problems(
        {"type": "object", "properties": {"f": {"title": "字段", "x-privacy": declaration, **spec}}}
    )


def test_every_field_must_declare_its_data_class() -> None:
    schema = {"type": "object", "properties": {"f": {"type": "string", "title": "姓名"}}}
    problems = rules.form_schema_problems(schema)
    assert [(p.code, p.field) for p in problems] == [
        ("form_field_undeclared", "form_schema.properties.f.x-privacy")
    ]
    assert "x-privacy" in problems[0].message_zh and "purpose" in problems[0].message_en
    assert codes(form_schema=schema) == ["form_field_undeclared"]


@pytest.mark.parametrize(
    ("declaration", "spec", "where"),
    [
        ({**DECLARED, "purpose": "  "}, {"type": "string"}, "purpose"),
        ({k: v for k, v in DECLARED.items() if k != "purpose"}, {"type": "string"}, "purpose"),
        ({**DECLARED, "level": "secret"}, {"type": "string"}, "level"),
        ({**DECLARED, "personal": "yes"}, {"type": "string"}, "personal"),
        ({**DECLARED, "mask": "stars"}, {"type": "string"}, "mask"),
        ({**DECLARED, "retention": "5年"}, {"type": "string"}, "retention"),
        ({**DECLARED, "mask": "none"}, {"type": "string"}, "mask"),  # personal, shown plain
        ({**NOT_PERSONAL, "mask": "name"}, {"type": "string"}, "mask"),  # mask on public data
        ({**DECLARED, "mask": "phone"}, {"type": "integer"}, "mask"),  # text mask on a number
    ],
)
def test_invalid_declarations_name_the_key(
    declaration: dict[str, Any], spec: dict[str, Any], where: str
) -> None:
    problems = declared(declaration, **spec)
    assert [p.code for p in problems] == ["form_field_declaration_invalid"]
    assert problems[0].field == f"form_schema.properties.f.x-privacy.{where}"
    assert where in problems[0].message_zh and where in problems[0].message_en


def test_a_declaration_that_is_not_an_object() -> None:
    problems = declared("sensitive", type="string")
    assert [(p.code, p.field) for p in problems] == [
        ("form_field_declaration_invalid", "form_schema.properties.f.x-privacy")
    ]


@pytest.mark.parametrize(
    ("personal", "mask", "field_type"),
    [
        ("none", "none", "string"),
        ("personal", "address", "string"),
        ("personal", "full", "boolean"),
        ("sensitive", "id_number", "string"),
        ("sensitive", "full", "number"),
    ],
)
def test_coherent_declarations_pass(personal: str, mask: str, field_type: str) -> None:
    declaration = {**DECLARED, "personal": personal, "mask": mask, "level": "important"}
    assert declared(declaration, type=field_type) == []


def test_x_privacy_belongs_to_fields_not_to_the_form() -> None:
    schema = {"type": "object", "properties": {}, "x-privacy": DECLARED}
    assert schema_codes(schema) == ["form_schema_unsupported_keyword"]


def test_form_validation_and_rendering_ignore_the_declaration() -> None:
    schema = _item_data().form_schema
    assert Draft202012Validator(schema).is_valid({"reason": "家庭困难"})
    assert not Draft202012Validator(schema).is_valid({})
    [reason] = fields_from_schema(schema)
    assert (reason.name, reason.title, reason.kind, reason.required) == (
        "reason",
        "申请理由",
        "text",
        True,
    )


def bundle(**overrides: Any) -> BundleCreate:
    data: dict[str, Any] = {
        "code": "b1",
        "name": "测试一件事",
        "item_codes": ["A", "B"],
        "promised_limit_days": 1,
        "statutory_limit_days": 3,
        "lead_department_code": "X",
    }
    data.update(overrides)
    return BundleCreate.model_validate(data)


def bundle_codes(data: BundleCreate, departments: dict[str, str]) -> list[str]:
    return [p.code for p in rules.bundle_problems(data, departments)]


def test_bundle_rules() -> None:
    two_departments = {"A": "d1", "B": "d2"}
    assert bundle_codes(bundle(), two_departments) == []
    assert bundle_codes(bundle(promised_limit_days=4), two_departments) == [
        "promised_exceeds_statutory"
    ]
    assert bundle_codes(bundle(), {"A": "d1", "B": "d1"}) == ["bundle_single_department"]
    assert bundle_codes(bundle(item_codes=["A"]), {"A": "d1"}) == ["bundle_too_small"]
    assert bundle_codes(bundle(item_codes=["A", "A"]), {"A": "d1"}) == [
        "bundle_duplicate_item",
        "bundle_too_small",
    ]
