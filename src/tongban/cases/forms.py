"""Read helpers the application and workbench forms need: what an application asks, what a
补正 notice may list, what an approval issues, uploads, and a role's first queue."""

from __future__ import annotations

import secrets

from sqlalchemy.orm import Session

from tongban.access.rules import Actor
from tongban.cases import repository, submission, verification
from tongban.cases.models import Upload
from tongban.cases.queries import require as _require
from tongban.cases.queue_rules import Queue, owned_queues
from tongban.cases.schemas import CaseDetail, UploadRead
from tongban.cases.storage import get_storage, sniff_content_type
from tongban.catalog.schemas import MaterialRead
from tongban.config import get_settings
from tongban.errors import DomainError


def application_plan(
    session: Session, *, item_code: str | None = None, bundle_code: str | None = None
) -> submission.MaterialPlan:
    """The materials an application for this item or bundle asks for (each once)."""
    target = submission.resolve_target(session, item_code=item_code, bundle_code=bundle_code)
    return submission.material_plan(target)


def supplement_choices(session: Session, *, case: CaseDetail) -> list[MaterialRead]:
    """What a one-time 补正 notice may ask for: the materials the application asks (each
    once), never one that shared data has already verified."""
    target = submission.resolve_target(
        session, item_code=case.item_code, bundle_code=case.bundle_code
    )
    verified = {v.requirement_id for v in case.verifications if v.outcome == verification.VERIFIED}
    return [m for _, m in submission.material_plan(target).asked if m.id not in verified]


def issued_fields(session: Session, *, case: CaseDetail) -> dict[str, dict[str, str]]:
    """Per item code: the values approving that item issues (field → title), for the form."""
    target = submission.resolve_target(
        session, item_code=case.item_code, bundle_code=case.bundle_code
    )
    properties = submission.merged_schema(target.items)["properties"]
    return {
        item.code: {f: str(properties.get(f, {}).get("title", f)) for f in item.issues}
        for item in target.items
        if item.issues
    }


def default_queue(actor: Actor) -> str:
    """The queue a role works from first (its first owned queue)."""
    owned = owned_queues(actor)
    return owned[0].value if owned else Queue.ACCEPTANCE.value


def save_upload(session: Session, *, actor: Actor, filename: str, content: bytes) -> UploadRead:
    _require(actor, "uploads.create")
    limit = get_settings().max_upload_bytes
    if len(content) > limit:
        raise DomainError(
            "file_too_large",
            f"单个文件不能超过 {limit // (1024 * 1024)} MB。",
            f"A file may not exceed {limit // (1024 * 1024)} MB.",
            status=413,
            details={"max_bytes": limit, "size": len(content)},
        )
    content_type = sniff_content_type(content)
    if content_type is None:
        raise DomainError(
            "unsupported_file_type",
            "仅支持 PDF、JPEG、PNG、OFD 格式的文件（按文件内容识别）。",
            "Only PDF, JPEG, PNG and OFD files are accepted (checked by content).",
            status=415,
            details={"filename": filename},
        )
    sha256 = get_storage().put(content)
    upload = Upload(
        token=secrets.token_hex(16),
        sha256=sha256,
        size=len(content),
        content_type=content_type,
        filename=filename[:255] or "file",
        owner_user_id=actor.user_id,
    )
    session.add(upload)
    session.flush()
    return UploadRead(
        upload_id=upload.token,
        filename=upload.filename,
        content_type=content_type,
        size=upload.size,
        sha256=sha256,
    )


def pending_uploads(session: Session, *, actor: Actor, tokens: list[str]) -> dict[str, UploadRead]:
    """Of ``tokens``, the actor's own uploads not yet attached to a case (files chosen on a
    form that came back with an error: kept so the person need not choose them again)."""
    found = repository.uploads_by_token(session, [t for t in tokens if t][:50])
    return {
        token: UploadRead(
            upload_id=upload.token,
            filename=upload.filename,
            content_type=upload.content_type,
            size=upload.size,
            sha256=upload.sha256,
        )
        for token, upload in found.items()
        if upload.owner_user_id == actor.user_id and upload.case_id is None
    }
