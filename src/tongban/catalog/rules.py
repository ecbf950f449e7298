"""Pure validation of catalog entries: data-quality rules, the form-schema subset and
the data classification every form field declares."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from tongban.catalog.schemas import (
    APPLICANT_ID,
    APPLICATION_SOURCES,
    BundleCreate,
    ItemCreate,
    MaterialCreate,
    SharedDataReplacement,
)
from tongban.errors import Invalid
from tongban.privacy.policy import NEVER_BASIS_MASKS, TEXT_MASKS, FormFieldDeclaration

# Every field declares its data class and purpose here (data minimization); JSON Schema
# validators and the form generator ignore the keyword.
PRIVACY_KEYWORD = "x-privacy"
# The web layer renders application forms from exactly this subset of JSON Schema.
FIELD_TYPES = frozenset({"string", "integer", "number", "boolean"})
FIELD_KEYWORDS = frozenset(
    {
        "type",
        "title",
        "description",
        "enum",
        "format",
        "maxLength",
        "pattern",
        "minimum",
        "maximum",
        PRIVACY_KEYWORD,
    }
)
STRING_ONLY = frozenset({"format", "maxLength", "pattern"})
NUMBER_ONLY = frozenset({"minimum", "maximum"})
FIELD_FORMATS = frozenset({"date"})
SCHEMA_KEYWORDS = frozenset(
    {"$schema", "type", "title", "description", "properties", "required", "additionalProperties"}
)
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Problem:
    code: str
    message_zh: str
    message_en: str
    field: str = ""


@dataclass(frozen=True)
class ServiceOffer:
    """What an exchange service registered on this node offers: element codes and claims."""

    elements: frozenset[str]
    claims: frozenset[str]


def item_problems(
    data: ItemCreate, *, offered: Mapping[str, ServiceOffer] | None = None
) -> list[Problem]:
    """Every data-quality problem of an item (reference.md), empty when it is fine.

    ``offered``: the exchange's services, to check shared-data replacements against
    (None when the node has no exchange registry yet: only their shape is checked).
    """
    problems: list[Problem] = []
    if data.promised_limit_days > data.statutory_limit_days:
        problems.append(_promised_exceeds(data.promised_limit_days, data.statutory_limit_days))
    if data.visits_required > 0 and not data.visit_reason.strip():
        problems.append(
            Problem(
                "visit_reason_required",
                "到办事现场次数大于 0 时须说明理由。",
                "An item that needs visits must say why.",
                "visit_reason",
            )
        )
    if data.online_depth == "full_online" and data.visits_required != 0:
        problems.append(
            Problem(
                "full_online_needs_zero_visits",
                "全程网办事项的到现场次数必须为 0。",
                "A fully online item must need zero visits.",
                "visits_required",
            )
        )
    online = data.online_depth in ("online_apply", "full_online")
    if data.visits_required == 0 and not online and not data.accepts_mail:
        problems.append(
            Problem(
                "zero_visits_needs_mail",
                "零跑动但不能网办的事项必须支持快递申请。",
                "An item with zero visits that cannot be done online must accept mail.",
                "accepts_mail",
            )
        )
    seen: set[str] = set()
    for material in data.materials:
        if material.code in seen:
            problems.append(
                Problem(
                    "duplicate_material_code",
                    f"申请材料编码重复：{material.code}",
                    f"Duplicate material code: {material.code}",
                    "materials",
                )
            )
        seen.add(material.code)
        if material.replaced_by_data is not None:
            problems.extend(replacement_problems(material, data.form_schema, offered))
    problems.extend(form_schema_problems(data.form_schema))
    return problems


def replacement_problems(
    material: MaterialCreate,
    form_schema: dict[str, Any],
    offered: Mapping[str, ServiceOffer] | None,
) -> list[Problem]:
    """Problems of a material's shared-data replacement (免提交); empty when it is fine."""
    replacement = material.replaced_by_data
    assert replacement is not None
    where = f"materials.{material.code}.replaced_by_data"
    name = material.name
    problems: list[Problem] = []
    compares = all(s.compare for s in replacement.checked_subjects())
    if replacement.claim is None and not compares:
        problems.append(
            Problem(
                "replacement_needs_check",
                f"材料“{name}”的共享数据替代须指明核验的断言（claim）或比对的数据元（compare）。",
                f"Material {name}: a shared-data replacement needs a claim or elements to compare.",
                where,
            )
        )
    fields = form_schema.get("properties", {})

    def known(source: str) -> bool:
        in_form = source.startswith("form.") and source[5:] in fields
        return source in APPLICATION_SOURCES or in_form

    compared = [replacement.compare, *(s.compare for s in replacement.subjects if s.compare)]
    for element, source in ((e, s) for compare in compared for e, s in compare.items()):
        if not known(source):
            problems.append(
                Problem(
                    "replacement_unknown_source",
                    f"材料“{name}”：数据元 {element} 的比对来源 {source} 不存在"
                    "（可用 applicant.name、applicant.id_number 或 form.<表单字段>）。",
                    f"Material {name}: element {element} is compared with {source}, which the "
                    "application lacks (applicant.name, applicant.id_number, form.<field>).",
                    where,
                )
            )
    problems.extend(_subject_problems(name, where, replacement, known))
    if offered is not None:
        problems.extend(_offer_problems(name, where, replacement, offered))
    return problems


def _subject_problems(
    name: str, where: str, replacement: SharedDataReplacement, known: Callable[[str], bool]
) -> list[Problem]:
    """Each subject's identity number comes from the application, once; another person
    is compared with their own values, never with the applicant's."""
    problems: list[Problem] = []
    sources = [s.id_number for s in replacement.subjects]
    for source in sources:
        if source == "applicant.name" or not known(source):
            problems.append(
                Problem(
                    "replacement_unknown_subject",
                    f"材料“{name}”：核验对象的身份号码来源 {source} 不存在"
                    "（可用 applicant.id_number 或 form.<表单字段>）。",
                    f"Material {name}: the subject's identity number comes from {source}, which "
                    "the application lacks (applicant.id_number, form.<field>).",
                    where,
                )
            )
    if len(set(sources)) != len(sources):
        problems.append(
            Problem(
                "replacement_duplicate_subject",
                f"材料“{name}”：同一核验对象列出了两次。",
                f"Material {name}: a subject is listed twice.",
                where,
            )
        )
    for subject in replacement.checked_subjects():
        borrowed = [
            source for source in (subject.compare or {}).values() if source.startswith("applicant.")
        ]
        if subject.id_number != APPLICANT_ID and borrowed:
            problems.append(
                Problem(
                    "replacement_subject_compare",
                    f"材料“{name}”：核验对象 {subject.label or subject.id_number} 不是申请人，"
                    f"不能与申请人的信息（{'、'.join(borrowed)}）比对，请为其指明比对来源。",
                    f"Material {name}: subject {subject.id_number} is not the applicant and "
                    f"cannot be compared with the applicant's {', '.join(borrowed)}; give its own.",
                    where,
                )
            )
    return problems


def _offer_problems(
    name: str, where: str, replacement: SharedDataReplacement, offered: Mapping[str, ServiceOffer]
) -> list[Problem]:
    offer = offered.get(replacement.service)
    if offer is None:
        return [
            Problem(
                "replacement_unknown_service",
                f"材料“{name}”引用的共享服务未注册：{replacement.service}",
                f"Material {name} names an exchange service that is not registered: "
                f"{replacement.service}",
                where,
            )
        ]
    problems: list[Problem] = []
    if replacement.claim is not None and replacement.claim not in offer.claims:
        problems.append(
            Problem(
                "replacement_unknown_claim",
                f"材料“{name}”：共享服务 {replacement.service} 不提供断言 {replacement.claim}",
                f"Material {name}: {replacement.service} answers no claim {replacement.claim}",
                where,
            )
        )
    if replacement.claim is None:
        compared = {e for s in replacement.checked_subjects() for e in s.compare or {}}
        for element in sorted(compared - offer.elements):
            problems.append(
                Problem(
                    "replacement_unknown_element",
                    f"材料“{name}”：共享服务 {replacement.service} 不提供数据元 {element}",
                    f"Material {name}: {replacement.service} does not offer element {element}",
                    where,
                )
            )
    return problems


def form_schema_problems(schema: dict[str, Any]) -> list[Problem]:
    """Problems that keep ``schema`` from being rendered as a form; empty when it is fine."""
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        return [
            Problem(
                "invalid_form_schema",
                f"表单定义不是合法的 JSON Schema：{exc.message}",
                f"The form is not a valid JSON Schema: {exc.message}",
                "form_schema",
            )
        ]
    if schema.get("type") != "object" or not isinstance(schema.get("properties", {}), dict):
        return [
            Problem(
                "form_schema_not_object",
                "表单定义必须是 type 为 object 的对象，字段放在 properties 中。",
                "The form must be an object schema with its fields under properties.",
                "form_schema",
            )
        ]
    problems: list[Problem] = []
    for keyword in sorted(set(schema) - SCHEMA_KEYWORDS):
        problems.append(_unsupported("form_schema", keyword))
    properties: dict[str, Any] = schema.get("properties", {})
    for name, spec in properties.items():
        problems.extend(_field_problems(name, spec))
    for name in schema.get("required", []):
        if name not in properties:
            problems.append(
                Problem(
                    "form_required_unknown_field",
                    f"必填字段未定义：{name}",
                    f"Required field is not defined: {name}",
                    f"form_schema.required.{name}",
                )
            )
    return problems


def _field_problems(name: str, spec: Any) -> list[Problem]:
    where = f"form_schema.properties.{name}"
    if not isinstance(spec, dict):
        return [_unsupported(where, "boolean schema")]
    problems: list[Problem] = []
    field_type = spec.get("type")
    if field_type not in FIELD_TYPES:
        problems.append(
            Problem(
                "form_field_unsupported_type",
                f"字段 {name} 的类型须为 string/integer/number/boolean 之一。",
                f"Field {name} must be of type string, integer, number or boolean.",
                where,
            )
        )
    title = spec.get("title")
    if not isinstance(title, str) or not _CJK.search(title):
        problems.append(
            Problem(
                "form_field_needs_chinese_title",
                f"字段 {name} 须有中文标题（title）。",
                f"Field {name} needs a Chinese title.",
                where,
            )
        )
    for keyword in sorted(set(spec) - FIELD_KEYWORDS):
        problems.append(_unsupported(where, keyword))
    misplaced = (set(spec) & STRING_ONLY if field_type != "string" else set()) | (
        set(spec) & NUMBER_ONLY if field_type not in ("integer", "number") else set()
    )
    for keyword in sorted(misplaced):
        problems.append(_unsupported(where, keyword))
    if "format" in spec and spec["format"] not in FIELD_FORMATS:
        problems.append(
            Problem(
                "form_field_unsupported_format",
                f"字段 {name} 仅支持 date 格式。",
                f"Field {name}: only the date format is supported.",
                where,
            )
        )
    problems.extend(declaration_problems(name, spec))
    return problems


def declaration_problems(name: str, spec: dict[str, Any]) -> list[Problem]:
    """Problems of the field's "x-privacy" declaration; an item may only collect declared fields."""
    where = f"form_schema.properties.{name}.{PRIVACY_KEYWORD}"
    if PRIVACY_KEYWORD not in spec:
        return [
            Problem(
                "form_field_undeclared",
                f"字段 {name} 未声明数据分类（x-privacy：分类、级别、个人信息类别、脱敏方式、"
                "收集目的）；事项只能收集已声明用途的字段。",
                f"Field {name} has no x-privacy declaration (category, level, personal class, "
                "mask, purpose); an item may only collect fields it declares with a purpose.",
                where,
            )
        ]
    try:
        declaration = FormFieldDeclaration.model_validate(spec[PRIVACY_KEYWORD])
    except ValidationError as exc:
        return [_invalid_declaration(name, where, error) for error in exc.errors()]
    return _coherence_problems(name, where, declaration, spec.get("type"))


def _invalid_declaration(name: str, where: str, error: ErrorDetails) -> Problem:
    key = ".".join(str(part) for part in error["loc"])
    context = error.get("ctx", {})
    match error["type"]:
        case "missing":
            zh, en = f"缺少 {key}", f"{key} is missing"
        case "extra_forbidden":
            zh, en = f"不支持的键 {key}", f"unknown key {key}"
        case "literal_error":
            zh = f"{key} 须为 {context.get('expected')} 之一"
            en = f"{key} must be one of {context.get('expected')}"
        case "string_too_short":
            zh = f"{key} 至少 {context.get('min_length')} 个字"
            en = f"{key} needs at least {context.get('min_length')} characters"
        case _:
            zh = f"{key or '声明'} 填写有误（{error['msg']}）"
            en = f"{key or 'declaration'}: {error['msg']}"
    return _declaration_problem(name, f"{where}.{key}" if key else where, zh, en)


def _coherence_problems(
    name: str, where: str, declaration: FormFieldDeclaration, field_type: Any
) -> list[Problem]:
    # The mask decides what staff who see the field "masked" actually see: a personal
    # field without one would be shown plain, a mask on non-personal data is a
    # misclassification, and a text mask cannot cut a number or a yes/no.
    problems: list[Problem] = []
    if declaration.personal != "none" and declaration.mask == "none":
        problems.append(
            _declaration_problem(
                name,
                f"{where}.mask",
                "个人信息须声明脱敏方式（mask），无法部分显示的值用 full",
                "personal data needs a mask (use full when no part may be shown)",
            )
        )
    if declaration.personal == "none" and declaration.mask != "none":
        problems.append(
            _declaration_problem(
                name,
                f"{where}.mask",
                "非个人信息不脱敏，mask 应为 none；若含个人信息请改 personal",
                "non-personal data is not masked: mask must be none, or change personal",
            )
        )
    if declaration.basis and declaration.mask in NEVER_BASIS_MASKS:
        problems.append(
            _declaration_problem(
                name,
                f"{where}.basis",
                "证件号码、电话、银行卡号不能作为审查依据直接显示，须脱敏并按事由查看明文",
                "identity, phone and card numbers cannot be a decision basis shown plain",
            )
        )
    if declaration.mask in TEXT_MASKS and field_type != "string":
        problems.append(
            _declaration_problem(
                name,
                f"{where}.mask",
                f"mask {declaration.mask} 只适用于文本字段，非文本字段请用 full",
                f"mask {declaration.mask} applies to text fields only; use full",
            )
        )
    return problems


def _declaration_problem(name: str, where: str, zh: str, en: str) -> Problem:
    return Problem(
        "form_field_declaration_invalid",
        f"字段 {name} 的数据分类声明（x-privacy）有误：{zh}。",
        f"Field {name}: invalid x-privacy declaration: {en}.",
        where,
    )


def _unsupported(where: str, keyword: str) -> Problem:
    return Problem(
        "form_schema_unsupported_keyword",
        f"表单定义中不支持的关键字：{keyword}（位置 {where}）",
        f"Unsupported form keyword: {keyword} (at {where})",
        where,
    )


def _promised_exceeds(promised: int, statutory: int) -> Problem:
    return Problem(
        "promised_exceeds_statutory",
        f"承诺办结时限（{promised} 个工作日）不得超过法定时限（{statutory} 个工作日）。",
        f"The promised limit ({promised} working days) exceeds the statutory limit ({statutory}).",
        "promised_limit_days",
    )


def bundle_problems(data: BundleCreate, item_departments: dict[str, str]) -> list[Problem]:
    """Problems of a bundle, given the department of each of its (existing) items."""
    problems: list[Problem] = []
    if data.promised_limit_days > data.statutory_limit_days:
        problems.append(_promised_exceeds(data.promised_limit_days, data.statutory_limit_days))
    if len(set(data.item_codes)) != len(data.item_codes):
        problems.append(
            Problem(
                "bundle_duplicate_item",
                "一件事中的事项不得重复。",
                "A bundle lists an item twice.",
                "item_codes",
            )
        )
    if len(set(data.item_codes)) < 2:
        problems.append(
            Problem(
                "bundle_too_small",
                "一件事至少包含两个事项。",
                "A bundle needs at least two items.",
                "item_codes",
            )
        )
    elif len(set(item_departments.values())) < 2:
        problems.append(
            Problem(
                "bundle_single_department",
                "一件事须涉及两个及以上部门。",
                "A bundle must span at least two departments.",
                "item_codes",
            )
        )
    return problems + _stage_problems(data)


def _stage_problems(data: BundleCreate) -> list[Problem]:
    """Stages, when given, place every item of the bundle in exactly one non-empty stage."""
    if not data.stages:
        return []
    staged = [code for stage in data.stages for code in stage]
    if all(data.stages) and sorted(staged) == sorted(set(data.item_codes)):
        return []
    return [
        Problem(
            "bundle_stages_invalid",
            "办理阶段须把一件事的每个事项恰好安排一次，且每个阶段至少一个事项。",
            "Stages must place each of the bundle's items exactly once, none empty.",
            "stages",
        )
    ]


def raise_problems(problems: list[Problem], what_zh: str, what_en: str) -> None:
    """Raise one Invalid naming the first problem's code and listing them all."""
    if not problems:
        return
    first = problems[0]
    extra_zh = f"（另有 {len(problems) - 1} 处问题）" if len(problems) > 1 else ""
    extra_en = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    raise Invalid(
        first.code,
        f"{what_zh}未通过校验：{first.message_zh}{extra_zh}",
        f"{what_en} failed validation: {first.message_en}{extra_en}",
        details={"problems": [asdict(p) for p in problems]},
    )
