"""Submitting a case: validate the applicant, the form and the materials, then number it."""

from __future__ import annotations

import hashlib
import json
import math
import secrets
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from tongban.access import service as access_service
from tongban.access.rules import Actor, Role
from tongban.access.service import Declared, Filing
from tongban.cases import repository
from tongban.cases.models import Case, CaseMaterial, Upload
from tongban.cases.schemas import ApplicantIn, CaseCreate
from tongban.catalog import service as catalog_service
from tongban.catalog.schemas import ItemRead, MaterialRead
from tongban.config import get_settings
from tongban.errors import DomainError, Invalid, NotFound
from tongban.kit.clock import to_local
from tongban.regions import service as regions_service


@dataclass(frozen=True)
class Target:
    """What is being applied for: one item, or a bundle of items (一件事)."""

    title: str
    item_code: str | None
    bundle_code: str | None
    items: list[ItemRead]
    limit_days: int
    statutory_days: int
    lead_department_code: str
    lead_department_name: str
    region_code: str
    decided_by: str = "department"
    stages: tuple[tuple[str, ...], ...] = ()  # item codes by stage; () = all in parallel

    @property
    def assurance_level(self) -> int:
        """实名认证 level needed to apply online: the strictest of the items'."""
        return max((item.assurance_level for item in self.items), default=1)


def resolve_target(session: Session, *, item_code: str | None, bundle_code: str | None) -> Target:
    """The item or bundle applied for, read once per transaction (an action needs it thrice)."""
    cache = per_transaction(session, "case_targets")
    key = (item_code, bundle_code)
    if key not in cache:
        cache[key] = _load_target(session, item_code, bundle_code)
    target: Target = cache[key]
    return target


def per_transaction(session: Session, name: str) -> dict[Any, Any]:
    """A scratch dict that lives as long as the session's current transaction."""
    transaction = session.get_transaction()
    slot = session.info.get(name)
    if slot is None or slot[0] is not transaction:
        slot = (transaction, {})
        session.info[name] = slot
    cache: dict[Any, Any] = slot[1]
    return cache


def _load_target(session: Session, item_code: str | None, bundle_code: str | None) -> Target:
    if item_code:
        item = catalog_service.get_item(session, code=item_code)
        return Target(
            item.name,
            item.code,
            None,
            [item],
            item.promised_limit_days,
            item.statutory_limit_days,
            item.department_code,
            item.department_name,
            item.region_code,
            item.decided_by,
        )
    bundle = catalog_service.get_bundle(session, code=bundle_code or "")
    # The lead department (牵头部门) need not implement any of the bundle's items.
    lead = regions_service.get_department(session, bundle.lead_department_code)
    return Target(
        bundle.name,
        None,
        bundle.code,
        bundle.items,
        bundle.promised_limit_days,
        bundle.statutory_limit_days,
        lead.code,
        lead.name,
        lead.region_code,
        "department",
        tuple(tuple(stage) for stage in bundle.stages),
    )


def request_hash(data: CaseCreate) -> str:
    canonical = json.dumps(data.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def filing(session: Session, actor: Actor, target: Target, applicant: ApplicantIn) -> Filing:
    """On whose behalf the application is filed (access decides; nothing is stored yet)."""
    return access_service.filing_for(
        session,
        actor=actor,
        declared=Declared(
            kind=applicant.kind,
            name=applicant.name,
            id_number=applicant.id_number,
            credit_code=applicant.credit_code,
        ),
        item_codes=[item.code for item in target.items],
        required_level=target.assurance_level,
    )


def validate_form(target: Target, form: dict[str, Any]) -> None:
    schema = submission_schema(target.items)
    problems = [
        {
            "field": ".".join(str(p) for p in error.absolute_path) or _missing_field(error.message),
            "message": error.message,
        }
        for error in Draft202012Validator(
            schema, format_checker=Draft202012Validator.FORMAT_CHECKER
        ).iter_errors(form)
    ]
    problems += [
        {"field": name, "message": "must be a finite number (not NaN or Infinity)"}
        for name, value in form.items()
        if isinstance(value, float) and not math.isfinite(value)
    ]
    if problems:
        raise Invalid(
            "invalid_form",
            "申请表填写有误，请检查标出的字段。",
            "The application form has errors; see the listed fields.",
            details=problems,
        )


def _missing_field(message: str) -> str:
    return message.split("'")[1] if "'" in message else ""


def merged_schema(items: list[ItemRead]) -> dict[str, Any]:
    """A bundle's form is the union of its items' forms (shared fields asked once)."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for item in items:
        schema = item.form_schema or {}
        properties.update(schema.get("properties", {}))
        required += [r for r in schema.get("required", []) if r not in required]
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def submission_schema(items: list[ItemRead]) -> dict[str, Any]:
    """What the applicant fills in: in a bundle, values another of its items issues (the new
    company's 统一社会信用代码) are not asked — they arrive when that item is approved."""
    schema = merged_schema(items)
    if len(items) < 2:
        return schema
    issued = {field for item in items for field in item.issues}
    return {
        **schema,
        "properties": {k: v for k, v in schema["properties"].items() if k not in issued},
        "required": [r for r in schema["required"] if r not in issued],
    }


def requirements_of(target: Target) -> dict[int, tuple[ItemRead, MaterialRead]]:
    return {m.id: (item, m) for item in target.items for m in item.materials}


@dataclass(frozen=True)
class MaterialPlan:
    """The materials an application asks for: in a bundle each material once, and none that
    an earlier item of the bundle produces (营业执照 from 企业设立登记).

    ``groups`` maps each asked requirement to every requirement it stands for (itself and
    the same material in the bundle's other items); ``produced`` maps a requirement an
    earlier item's result satisfies to that item's name.
    """

    asked: list[tuple[ItemRead, MaterialRead]]
    groups: dict[int, tuple[MaterialRead, ...]]
    produced: dict[int, str]

    def stands_for(self, requirement_id: int) -> int:
        for asked_id, members in self.groups.items():
            if any(m.id == requirement_id for m in members):
                return asked_id
        return requirement_id

    def must_upload(self, material: MaterialRead) -> bool:
        """Required by any item that asks it, unless shared data replaces it for any."""
        members = self.groups.get(material.id, (material,))
        required = any(m.necessity == "required" for m in members)
        return required and not any(_replaced(m) for m in members)

    def missing(self, present: set[int]) -> list[str]:
        """Names of the asked materials that must be uploaded and are not among ``present``
        (requirement ids as attached, repeats counted for the material they repeat)."""
        have = {self.stands_for(r) for r in present}
        return [m.name for _, m in self.asked if self.must_upload(m) and m.id not in have]

    def verification_items(self) -> list[ItemRead]:
        """The items with only their asked materials (whose shared-data checks run)."""
        asked = {m.id for _, m in self.asked}
        items = list(dict.fromkeys(item.code for item, _ in self.asked))
        by_code = {item.code: item for item, _ in self.asked}
        return [
            by_code[code].model_copy(
                update={"materials": [m for m in by_code[code].materials if m.id in asked]}
            )
            for code in items
        ]


def material_plan(target: Target) -> MaterialPlan:
    if len(target.items) < 2:
        asked = [(i, m) for i in target.items for m in i.materials]
        return MaterialPlan(asked, {m.id: (m,) for _, m in asked}, {})
    stage = {code: n for n, codes in enumerate(target.stages) for code in codes}
    results = {i.result_name.strip(): i for i in target.items if i.result_name.strip()}
    by_name: dict[str, list[tuple[ItemRead, MaterialRead]]] = {}
    produced: dict[int, str] = {}
    for item in target.items:
        for material in item.materials:
            maker = results.get(material.name.strip())
            if maker is not None and stage.get(maker.code, 0) < stage.get(item.code, 0):
                produced[material.id] = maker.name
            else:
                by_name.setdefault(material.name.strip(), []).append((item, material))
    asked, groups = [], {}
    for members in by_name.values():
        # The member that shared data can replace stands for the group (its check runs).
        chosen = next((e for e in members if e[1].replaced_by_data is not None), members[0])
        asked.append(chosen)
        groups[chosen[1].id] = tuple(m for _, m in members)
    order = {m.id: n for n, m in enumerate(m for i in target.items for m in i.materials)}
    asked.sort(key=lambda entry: order[entry[1].id])
    return MaterialPlan(asked, groups, produced)


def _replaced(material: MaterialRead) -> bool:
    return material.replaced_by_data is not None or bool(material.replaced_by)


def must_upload(material: MaterialRead) -> bool:
    """Required materials, unless shared data replaces them (免提交) or they may follow (容缺).

    Shared data is checked at submission when the catalog names it (``replaced_by_data``,
    cases/verification.py); a description alone (an electronic licence the clerk looks up)
    still spares the upload, as before structured references existed.
    """
    return material.necessity == "required" and not _replaced(material)


def attach_materials(
    session: Session,
    *,
    actor: Actor,
    case: Case,
    target: Target,
    materials: list[Any],
    require_complete: bool,
) -> list[Upload]:
    """Add the materials to the case; returns their uploads, for ``claim_uploads``."""
    requirements = requirements_of(target)
    # All uploads in one query; they are claimed once the case has its id.
    uploads = repository.uploads_by_token(session, [entry.upload_id for entry in materials])
    used: list[Upload] = []
    total = 0
    seen: set[int] = set()
    for entry in materials:
        if entry.requirement_id not in requirements:
            raise Invalid(
                "unknown_material_requirement",
                f"该事项没有编号为 {entry.requirement_id} 的申请材料。",
                f"No material requirement {entry.requirement_id} for this application.",
                details={"requirement_id": entry.requirement_id},
            )
        upload = uploads.get(entry.upload_id)
        if (
            upload is None
            or upload.owner_user_id != actor.user_id
            or upload.case_id is not None
            or any(u is upload for u in used)  # one file serves one material
        ):
            raise _upload_not_found(entry.upload_id)
        used.append(upload)
        total += upload.size
        item, requirement = requirements[entry.requirement_id]
        seen.add(requirement.id)
        case.materials.append(
            CaseMaterial(
                requirement_id=requirement.id,
                requirement_name=requirement.name,
                item_code=item.code,
                upload_id=upload.id,
                upload=upload,
            )
        )
    limit = get_settings().max_case_upload_bytes
    if total > limit:
        raise DomainError(
            "case_uploads_too_large",
            f"本件材料总大小超过上限（{limit // (1024 * 1024)} MB）。",
            f"The materials of one case exceed {limit // (1024 * 1024)} MB in total.",
            status=413,
        )
    missing = material_plan(target).missing(seen)
    if missing and require_complete:
        raise Invalid(
            "missing_material",
            "缺少必要的申请材料：" + "、".join(missing),
            "Required materials are missing: " + ", ".join(missing),
            details={"missing": missing},
        )
    return used


def claim_uploads(session: Session, *, case: Case, uploads: list[Upload]) -> None:
    """Mark the uploads as the case's (the case must have its id, i.e. be inserted)."""
    claimed = repository.claim_uploads(session, case.id, [u.id for u in uploads])
    if claimed != len(uploads):
        # A concurrent request claimed one of them between our read and this write.
        raise _upload_not_found("、".join(u.token for u in uploads))
    for upload in uploads:
        # Written by the UPDATE above: record it as the loaded value, not as a change.
        set_committed_value(upload, "case_id", case.id)


def _upload_not_found(token: str) -> NotFound:
    return NotFound(
        "upload_not_found",
        f"找不到已上传的文件：{token}",
        f"Upload not found (or already used): {token}",
    )


def channel_for(actor: Actor, requested: str) -> str:
    if actor.role == Role.CLERK:
        return "window"
    if requested != "online":
        raise Invalid(
            "channel_not_allowed",
            "申请人只能通过网上渠道提交；窗口代办请由窗口人员录入。",
            "Applicants submit online; window filing is done by a clerk.",
        )
    return "online"


def new_case_no(session: Session, region_code: str, submitted_at: Any) -> str:
    day = to_local(submitted_at).strftime("%Y%m%d")
    sequence = repository.next_sequence(session, region_code, day)
    return f"{region_code}-{day}-{sequence:06d}"


def new_query_code() -> str:
    # 8 of 32 symbols: 32^8 ≈ 1.1 × 10^12 codes against a throttled guesser (docs/cases.md);
    # older 6-character codes keep working (compared as stored).
    return "".join(secrets.choice("23456789ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(8))
