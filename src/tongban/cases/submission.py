"""Submitting a case: validate the applicant, the form and the materials, then number it."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from tongban.access.rules import Actor, Role
from tongban.cases import repository
from tongban.cases.models import Case, CaseMaterial, Upload
from tongban.cases.schemas import ApplicantIn, CaseCreate
from tongban.catalog import service as catalog_service
from tongban.catalog.schemas import ItemRead, MaterialRead
from tongban.config import get_settings
from tongban.errors import DomainError, Invalid, NotFound
from tongban.kit.clock import to_local
from tongban.kit.ids import is_valid_id_number, is_valid_uscc, normalize_id_number
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
    )


def request_hash(data: CaseCreate) -> str:
    canonical = json.dumps(data.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def applicant_identity(applicant: ApplicantIn) -> str:
    if applicant.kind == "person":
        number = normalize_id_number(applicant.id_number or "")
        if not is_valid_id_number(number):
            raise Invalid(
                "invalid_id_number",
                "身份证号码无效：请核对 18 位号码及最后一位校验码。",
                "Invalid identity number: check the 18 digits and the final check character.",
                details={"field": "applicant.id_number"},
            )
        return number
    code = (applicant.credit_code or "").strip().upper()
    if not is_valid_uscc(code):
        raise Invalid(
            "invalid_credit_code",
            "统一社会信用代码无效：请核对 18 位代码及校验位。",
            "Invalid unified social credit code.",
            details={"field": "applicant.credit_code"},
        )
    return code


def validate_form(target: Target, form: dict[str, Any]) -> None:
    schema = merged_schema(target.items)
    problems = [
        {
            "field": ".".join(str(p) for p in error.absolute_path) or _missing_field(error.message),
            "message": error.message,
        }
        for error in Draft202012Validator(schema).iter_errors(form)
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


def requirements_of(target: Target) -> dict[int, tuple[ItemRead, MaterialRead]]:
    return {m.id: (item, m) for item in target.items for m in item.materials}


def must_upload(material: MaterialRead) -> bool:
    """Required materials, unless shared data replaces them (免提交) or they may follow (容缺).

    Shared data is checked at submission when the catalog names it (``replaced_by_data``,
    cases/verification.py); a description alone (an electronic licence the clerk looks up)
    still spares the upload, as before structured references existed.
    """
    replaced = material.replaced_by_data is not None or bool(material.replaced_by)
    return material.necessity == "required" and not replaced


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
    missing = [m.name for _, m in requirements.values() if must_upload(m) and m.id not in seen]
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
    return "".join(secrets.choice("23456789ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(6))
