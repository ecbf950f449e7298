"""A handful of demo cases in different states, so the workbench has something to show.

Cases are created through the cases service as the demo users (fictional
people), some with the clock set back so that deadlines are near or past, and
the staff who handle them then read them (demo/audit.py), leaving an audit log.
Idempotent: nothing is added when the demo county already has cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from tongban.access import service as access_service
from tongban.access.rules import Actor
from tongban.cases import service as case_service
from tongban.cases.schemas import ActionIn, ApplicantIn, CaseCreate, CaseDetail, MaterialIn
from tongban.catalog import service as catalog_service
from tongban.catalog.schemas import ItemRead
from tongban.demo.audit import Timeline
from tongban.exchange import service as exchange_service
from tongban.exchange.schemas import ConsentCreate

# A minimal, valid one-page PDF standing in for a scanned document.
SAMPLE_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


@dataclass(frozen=True)
class Story:
    applicant: str
    target: str  # item name or bundle name
    days_ago: int
    steps: tuple[tuple[str, str, dict[str, Any]], ...]  # (who, action, payload)
    by_clerk: bool = False


STORIES = (
    Story("applicant_ma", "企业开办", 0, ()),
    Story("applicant_li", "最低生活保障申请", 12, (("clerk", "accept", {}),)),
    Story(
        "applicant_ma",
        "个体工商户登记",
        3,
        (
            ("clerk", "accept", {}),
            ("reviewer", "approve_task", {}),
            ("reviewer", "decide", {"decision": "approve"}),
            ("clerk", "close", {}),
            ("clerk", "deliver", {"method": "electronic"}),
        ),
    ),
    Story("applicant_li", "异地就医备案", 0, (("clerk", "start_prereview", {}),), by_clerk=True),
    Story(
        "applicant_ma",
        "食品经营许可",
        6,
        (
            ("clerk", "accept", {}),
            ("reviewer", "start_special", {"kind": "勘察"}),
        ),
    ),
    Story(
        "applicant_li",
        "农机购置补贴申请",
        1,
        (("clerk", "request_supplement", {"missing": ["农机具购买发票原件"]}),),
    ),
    Story("applicant_ma", "住房公积金贷款", 9, (("clerk", "accept", {}),)),
)


def load_sample_cases(session: Session) -> int:
    """Play the stories and the staff's reads of their cases, in time order."""
    clerk = _actor(session, "clerk")
    if case_service.count_cases(session, actor=clerk):
        return 0
    timeline = Timeline(session)
    for index, story in enumerate(STORIES):
        # Each story happens in office hours on a working day (its steps at once).
        moment = timeline.days_ago(story.days_ago, minutes=30 + 10 * index)
        timeline.at(moment, partial(_play_and_plan, session, timeline, story, clerk))
    timeline.run()
    return len(STORIES)


def _play_and_plan(session: Session, timeline: Timeline, story: Story, clerk: Actor) -> None:
    timeline.plan_reads(_play(session, story, clerk))


def _actor(session: Session, username: str) -> Actor:
    actor = access_service.actor_by_username(session, username)
    if actor is None:
        raise LookupError(f"demo user missing: {username}")
    return actor


def _items(session: Session, name: str) -> tuple[str | None, str | None, list[ItemRead]]:
    for bundle in catalog_service.list_bundles(session):
        if bundle.name.startswith(name):
            return None, bundle.code, bundle.items
    summary = catalog_service.search_items(session, q=name, size=5).items[0]
    item = catalog_service.get_item(session, code=summary.code)
    return item.code, None, [item]


def _play(session: Session, story: Story, clerk: Actor) -> CaseDetail:
    applicant = _actor(session, story.applicant)
    filer = clerk if story.by_clerk else applicant
    item_code, bundle_code, items = _items(session, story.target)
    _consent_to_shared_checks(session, applicant, items)
    case = case_service.submit_case(
        session,
        actor=filer,
        data=_application(session, filer, applicant, items, item_code, bundle_code),
    )
    for who, action, payload in story.steps:
        actor = clerk if who == "clerk" else _reviewer(session, case)
        case = _act(session, actor, case, action, payload)
    return case


def _consent_to_shared_checks(session: Session, applicant: Actor, items: list[ItemRead]) -> None:
    """The applicant signs the data-query consent (e.g. 个人信息查询授权书 for property) for
    every check of the item whose legal basis is consent — when the exchange is set up."""
    if not exchange_service.providers(session):
        return
    codes = {item.code for item in items}
    for grant in exchange_service.authorizations(session):
        if (
            grant.consumer_kind == "item"
            and grant.consumer in codes
            and grant.legal_basis == "consent"
        ):
            exchange_service.give_consent(
                session,
                actor=applicant,
                data=ConsentCreate(
                    consumer=f"item:{grant.consumer}",
                    service_code=grant.service_code,
                    purpose=grant.purpose,
                ),
            )


def _reviewer(session: Session, case: CaseDetail) -> Actor:
    departments = {t.department_code for t in case.tasks}
    for reviewer in access_service.reviewers(session):
        if reviewer.department_code in departments:
            return reviewer
    raise LookupError(f"no demo reviewer for {case.case_no}")


def _act(
    session: Session, actor: Actor, case: CaseDetail, action: str, payload: dict[str, Any]
) -> CaseDetail:
    if action in ("approve_task", "deny_task"):
        payload = {
            "task_id": next(t.id for t in case.tasks if t.department_code == actor.department_code)
        }
    if action == "accept":  # the clerk checks at the window what data sharing could not
        payload = {
            **payload,
            "paper_checked": [v.id for v in case.verifications if v.ask_for_paper],
        }
    return case_service.act(
        session,
        actor=actor,
        case_no=case.case_no,
        action=ActionIn(action=action, version=case.version, payload=payload),
    )


def _application(
    session: Session,
    filer: Actor,
    applicant: Actor,
    items: list[ItemRead],
    item_code: str | None,
    bundle_code: str | None,
) -> CaseCreate:
    id_number, phone = access_service.applicant_contact(session, applicant.user_id)

    def upload() -> str:
        return case_service.save_upload(
            session, actor=filer, filename="扫描件.pdf", content=SAMPLE_PDF
        ).upload_id

    materials = [
        MaterialIn(requirement_id=m.id, upload_id=upload())
        for item in items
        for m in item.materials
        if case_service.must_upload(m)
    ]
    return CaseCreate(
        item_code=item_code,
        bundle_code=bundle_code,
        applicant=ApplicantIn(name=applicant.display_name, id_number=id_number, phone=phone),
        form=sample_form(items, id_number=id_number or ""),
        materials=materials,
        channel="window" if filer.role.value == "clerk" else "online",
    )


def sample_form(items: list[ItemRead], *, id_number: str) -> dict[str, Any]:
    """Plausible answers to the items' application forms (demo cases, tests, benchmarks);
    in a bundle, not the values one of its items issues (the new company's code)."""
    issued = {field for item in items for field in item.issues} if len(items) > 1 else set()
    form: dict[str, Any] = {}
    for item in items:
        for name, prop in item.form_schema.get("properties", {}).items():
            if name not in issued:
                form[name] = _sample(prop, id_number)
    return form


def _sample(prop: dict[str, Any], id_number: str) -> Any:
    if "enum" in prop:
        return prop["enum"][0]
    kind = prop.get("type")
    if kind in ("integer", "number"):
        return max(1, int(prop.get("minimum", 1)))
    if kind == "boolean":
        return True
    if prop.get("format") == "date":
        return "2026-10-15"
    pattern = prop.get("pattern", "")
    if "{17}" in pattern:
        return id_number
    if "身份证号" in prop.get("title", ""):
        return ""  # a list of other people's numbers: nobody else by default
    if "{18}" in pattern:
        return "91640425MA7XK2QJ3A"
    if "{4}" in pattern:
        return "2026"
    return "彭阳县白阳镇（演示）"[: prop.get("maxLength", 10)]
