"""What every exchange leaves behind: two audit entries and one monitoring row.

The audit log gets the request (who asked, for which person as a blind index, which
elements or claim, why, for which case, on which legal basis, the request's hash)
and the response (its status and hash) — never the values exchanged. The monitoring
row (``exchange_calls``) has timing and outcome only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from tongban.access.rules import Actor
from tongban.audit import service as audit_service
from tongban.exchange import repository
from tongban.exchange.protocol import RequestBody, ResponseBody
from tongban.privacy.crypto import person_ref

REQUEST_ACTION = "exchange_request"
RESPONSE_ACTION = "exchange"  # the audit log's word for data received through exchange
PURPOSE_CODE = "exchange"
BASES = {"law": "法律法规", "consent": "本人同意"}
RESULTS = {"answered": "ok", "refused": "denied", "unavailable": "unavailable"}
# The log's text is read by auditors on Chinese pages (the status code is in ``result``).
STATUS_ZH = {"answered": "已应答", "refused": "拒绝提供", "unavailable": "数据源不可用"}


@dataclass(frozen=True)
class Journal:
    side: str  # local, consumer, provider
    provider_code: str
    request: RequestBody
    request_hash: str
    response: ResponseBody | None  # None: refused before anything was sent
    response_hash: str
    outcome: str  # answered, denied, unavailable
    basis: str | None  # law, consent; None when no authorization covered the request
    error_code: str
    latency_ms: float
    attempts: int
    related: bool | None = None


def write(session: Session, *, actor: Actor | None, journal: Journal, at: datetime) -> None:
    request = journal.request
    subject = person_ref(request.subject)
    fields = tuple(request.elements) or ((f"claim:{request.claim}",) if request.claim else ())
    about = (
        f"目的 {request.purpose}；办件 {request.case_no or '无'}；"
        f"使用方 {request.consumer}@{request.consumer_node}；服务 {request.service}；"
        f"依据 {BASES.get(journal.basis or '', '未获授权')}；"
        f"请求 sha256:{journal.request_hash}"
    )
    entries = [
        audit_service.Access(
            action=REQUEST_ACTION,
            subject_kind="exchange",
            subject_ref=request.request_id,
            person_ref=subject,
            fields=fields,
            purpose_code=PURPOSE_CODE,
            purpose_text=about,
            result="denied" if journal.outcome == "denied" and journal.response is None else "ok",
            related=journal.related,
        )
    ]
    if journal.response is not None:
        response = journal.response
        error = f"（{response.error['code']}）" if response.error else ""
        entries.append(
            audit_service.Access(
                action=RESPONSE_ACTION,
                subject_kind="exchange",
                subject_ref=request.request_id,
                person_ref=subject,
                fields=fields,
                purpose_code=PURPOSE_CODE,
                purpose_text=f"{about}；应答 {STATUS_ZH[response.status]}{error}；"
                f"应答 sha256:{journal.response_hash}",
                result=RESULTS[response.status],
                related=journal.related,
            )
        )
    audit_service.record_many(session, actor=actor, accesses=entries)
    repository.insert_call(
        session,
        {
            "at": at,
            "request_id": request.request_id,
            "side": journal.side,
            "provider_code": journal.provider_code,
            "service_code": request.service,
            "consumer_node": request.consumer_node,
            "consumer": request.consumer,
            "purpose": request.purpose,
            "case_no": request.case_no,
            "outcome": journal.outcome,
            "error_code": journal.error_code,
            "latency_ms": journal.latency_ms,
            "attempts": journal.attempts,
            "request_hash": journal.request_hash,
            "response_hash": journal.response_hash,
        },
    )
