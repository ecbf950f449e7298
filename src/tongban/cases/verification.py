"""No-proof verification at submission (免提交): the shared data that replaces a material.

For every material of the application that the catalog says is replaced by shared
data (``replaced_by_data``), the platform asks the exchange — as the case's item,
for the item's purpose, about the applicant (an enterprise applicant: its credit code)
or about each person the material concerns (男女双方居民身份证: both, each with their
own values; the material passes only if every one passes) — instead of asking for
the paper.

It runs inside the submission's transaction, bounded by the exchange's own
per-provider timeouts, retries and circuit breaker: the result is part of the
case from its first moment. A check never makes submission fail: a provider that
is down, a refused request (no grant, no consent) or a question the exchange
cannot ask becomes an outcome the clerk sees — "could not verify, ask the
applicant for the document" — never a silent pass. A check never changes the
case's state; acceptance waits until every check that did not pass has its paper
document checked by the clerk (``resolve_for_acceptance``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.access.rules import Actor
from tongban.cases.models import Case, CaseVerification
from tongban.catalog.schemas import (
    ItemRead,
    MaterialRead,
    ReplacementSubject,
    SharedDataReplacement,
)
from tongban.errors import Conflict, DomainError, Invalid
from tongban.exchange import service as exchange_service
from tongban.kit.clock import now
from tongban.kit.ids import normalize_id_number

VERIFIED = "verified"
APPLICANT = "申请人"  # the label of the applicant among a material's subjects
# The case event of a check: it records, it does not move the case (no national code).
EVENT_ACTION = "verify"
EVENT_LABEL = "共享数据核验（免提交）"  # also in rules.ACTION_LABELS, for the process map
OUTCOME_LABELS = {
    "verified": "核验通过",
    "mismatch": "核验不一致",
    "unavailable": "无法核验",
    "denied": "无法核验（未获授权）",
}
# Shown with every check that did not pass, to the clerk and to the applicant.
ASK_FOR_PAPER_ZH = "未能通过数据共享确认，请申请人提供该材料（纸质或电子件），由窗口人员核验。"
ASK_FOR_PAPER_EN = (
    "Not confirmed through data sharing: the applicant provides the document and the clerk "
    "checks it."
)


def replaced_materials(items: Sequence[ItemRead]) -> list[tuple[ItemRead, MaterialRead]]:
    return [(item, m) for item in items for m in item.materials if m.replaced_by_data is not None]


def verify_materials(
    session: Session,
    *,
    actor: Actor,
    case: Case,
    items: Sequence[ItemRead],
) -> list[CaseVerification]:
    """Check every replaced material of ``case`` (numbered, not yet inserted); returns the
    results, to be stored with ``store`` once the case has its id."""
    replaced = replaced_materials(items)
    if not replaced:
        return []
    # A node without the provider (not set up yet, or removed) gets "unavailable" for
    # that check: the clerk asks for the paper — never a silent pass.
    results = []
    for item, material in replaced:
        replacement = material.replaced_by_data
        assert replacement is not None
        results.append(_check(session, actor, case, item, material, replacement))
    return results


@dataclass(frozen=True)
class _Answer:
    """One subject's check: the outcome after negation, and what the exchange said."""

    label: str
    outcome: str
    code: str
    message_zh: str
    message_en: str
    result: exchange_service.VerificationResult | None = None


def _check(
    session: Session,
    actor: Actor,
    case: Case,
    item: ItemRead,
    material: MaterialRead,
    replacement: SharedDataReplacement,
) -> CaseVerification:
    """One row per material: it passes only if every subject it concerns passes."""
    subjects = _each_person(case, replacement.checked_subjects())
    answers = [_ask(session, actor, case, item, replacement, subject) for subject in subjects]
    elements = {element for subject in subjects for element in subject.compare or {}}
    deciding = next((a for a in answers if a.outcome != VERIFIED), answers[-1])
    several = len(answers) > 1
    whose = f"{deciding.label or APPLICANT}：" if several and deciding.outcome != VERIFIED else ""
    row = CaseVerification(
        requirement_id=material.id,
        requirement_name=material.name,
        item_code=item.code,
        service_code=replacement.service,
        claim=replacement.claim,
        claim_holds=replacement.holds,
        elements=sorted(elements),
        outcome=deciding.outcome,
        code=deciding.code,
        message_zh=whose + deciding.message_zh,
        message_en=deciding.message_en,
        fields=[],
        paper_checked_by_name="",
        at=now(),
    )
    answered = [a.result for a in answers if a.result is not None]
    if answered:
        shown = next((r for r in answered if r.source), answered[0])
        row.provider_code, row.source = shown.provider_code, shown.source
        result = deciding.result or answered[-1]
        row.request_id, row.at = result.request_id, result.at
    fields = []
    for answer in answers:
        for field in answer.result.fields if answer.result else ():
            values = asdict(field)
            if several:  # whose values these are, for the clerk (另一方·姓名 …)
                label = answer.label or APPLICANT
                values |= {"subject": label, "name": f"{label}·{field.name}"}
            fields.append(values)
    row.fields = fields
    return row


def _each_person(case: Case, subjects: list[ReplacementSubject]) -> list[ReplacementSubject]:
    """A subject that lists several people (家庭成员) becomes one subject per identity
    number listed, each labelled with its place in the list."""
    expanded: list[ReplacementSubject] = []
    for subject in subjects:
        if not subject.many:
            expanded.append(subject)
            continue
        numbers = listed_numbers(_declared(case, subject.id_number))
        for n, number in enumerate(numbers, start=1):
            label = f"{subject.label or '成员'}{n}"[:16]
            expanded.append(
                subject.model_copy(update={"id_number": LITERAL + number, "label": label})
            )
    return expanded


LITERAL = "value:"  # a subject whose identity number is given, not looked up


def listed_numbers(text: str) -> list[str]:
    """Identity numbers as people list them: one per line, or separated by commas/、/；."""
    parts = re.split(r"[\s,，、;；]+", text or "")
    return list(dict.fromkeys(normalize_id_number(p) for p in parts if p.strip()))


def _ask(
    session: Session,
    actor: Actor,
    case: Case,
    item: ItemRead,
    replacement: SharedDataReplacement,
    subject: ReplacementSubject,
) -> _Answer:
    values = {e: _declared(case, source) for e, source in (subject.compare or {}).items()}
    try:
        # A savepoint: a question that cannot be asked leaves nothing half-written.
        with session.begin_nested():
            result = exchange_service.verify(
                session,
                actor=actor,
                consumer_item_code=item.code,
                service_code=replacement.service,
                subject=_declared(case, subject.id_number),
                purpose=replacement.purpose,
                claim=replacement.claim,
                claim_values=values if replacement.claim else None,
                expected=None if replacement.claim else values,
                case_no=case.case_no,
                related=True,
            )
    except DomainError as error:  # misconfigured (unknown service, element not offered …)
        zh, en = exchange_service.UNAVAILABLE_ZH, exchange_service.UNAVAILABLE_EN
        return _Answer(subject.label, "unavailable", error.code, zh, en)
    outcome: str = result.outcome
    code, zh, en = result.code, result.message_zh, result.message_en
    negated = replacement.claim is not None and not replacement.holds
    if negated and outcome in (VERIFIED, "mismatch"):
        # The document attests the claim does NOT hold (无其他住房证明: owns no property).
        outcome, code, zh, en = _negated(claim_held=outcome == VERIFIED, source=result.source)
    return _Answer(subject.label, outcome, code, zh, en, result)


def _negated(*, claim_held: bool, source: str) -> tuple[str, str, str, str]:
    if claim_held:
        return (
            "mismatch",
            "exchange_claim_holds",
            f"{source or '登记机关'}的登记与申报不符：登记信息显示该情形存在。",
            f"{source or 'The register'} contradicts the declaration: the registered fact exists.",
        )
    return VERIFIED, "", "核验通过。", "Verified."


def _declared(case: Case, source: str) -> str:
    if source.startswith(LITERAL):
        return source.removeprefix(LITERAL)
    if source == "applicant.name":
        return case.applicant_name
    if source == "applicant.id_number":
        return case.applicant_id_number
    value = (case.form_data or {}).get(source.removeprefix("form."), "")
    return "" if value is None else str(value)


def store(session: Session, *, case: Case, rows: Sequence[CaseVerification]) -> None:
    """Write the checks of a case that now has its id."""
    for row in rows:
        row.case_id = case.id
    session.add_all(rows)
    session.flush()


def event_of(row: CaseVerification) -> tuple[str, dict[str, Any]]:
    """The case event's note and payload for one check (no personal values: masks only)."""
    label = OUTCOME_LABELS.get(row.outcome, row.outcome)
    note = f"{row.requirement_name}：{label}（{row.source or row.service_code}）"
    payload = {
        "requirement_id": row.requirement_id,
        "service": row.service_code,
        "claim": row.claim,
        "elements": row.elements,
        "outcome": row.outcome,
        "code": row.code,
        "source": row.source,
        "request_id": row.request_id,
    }
    return note, payload


def of_case(session: Session, case_id: int) -> list[CaseVerification]:
    query = select(CaseVerification).where(CaseVerification.case_id == case_id)
    return list(session.scalars(query.order_by(CaseVerification.id)))


def unresolved(rows: Sequence[CaseVerification]) -> list[CaseVerification]:
    """Checks that did not pass and whose paper document nobody has checked yet."""
    return [r for r in rows if r.outcome != VERIFIED and r.paper_checked_at is None]


def resolve_for_acceptance(
    session: Session, *, actor: Actor, case: Case, paper_checked: Sequence[Any]
) -> dict[str, Any]:
    """Before acceptance: record the paper documents the clerk checked (verification ids),
    then refuse if a check that did not pass is still open. Returns the event payload part."""
    if not isinstance(paper_checked, list):
        raise Invalid(
            "paper_checked_not_a_list",
            "paper_checked 须为共享核验编号的列表。",
            "paper_checked must be a list of verification ids.",
        )
    rows = of_case(session, case.id)
    by_id = {r.id: r for r in rows}
    recorded = []
    for raw in paper_checked:
        row = by_id.get(raw) if isinstance(raw, int) else None
        if row is None or row.outcome == VERIFIED:
            raise Invalid(
                "unknown_verification",
                f"该办件没有需核验纸质材料的共享核验：{raw}",
                f"No failed shared-data check {raw} in this case.",
                details={"verification_id": raw},
            )
        if row.paper_checked_at is None:
            row.paper_checked_at = now()
            row.paper_checked_by_user_id = actor.user_id
            row.paper_checked_by_name = actor.display_name or actor.username
            recorded.append(row.id)
    open_checks = unresolved(rows)
    if open_checks:
        names = [r.requirement_name for r in open_checks]
        raise Conflict(
            "verification_unresolved",
            "以下材料未能通过数据共享核验，请核验申请人提供的纸质材料后再受理"
            "（或一次性告知补正、不予受理）：" + "、".join(names),
            "These materials were not confirmed through data sharing; check the applicant's "
            "documents before accepting (or request a supplement, or refuse): " + ", ".join(names),
            details={"verifications": [r.id for r in open_checks], "materials": names},
        )
    session.flush()
    return {"paper_checked": recorded} if recorded else {}
