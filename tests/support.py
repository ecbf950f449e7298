"""Helpers shared by the case tests: people, uploads, filled-in forms and submissions."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from tongban.access import service as access_service
from tongban.access.rules import Actor
from tongban.cases import service as case_service
from tongban.cases.schemas import ActionIn, ApplicantIn, CaseCreate, CaseDetail, MaterialIn
from tongban.catalog import service as catalog_service
from tongban.catalog.schemas import ItemRead
from tongban.demo.cases import sample_form as demo_sample_form
from tongban.kit.ids import make_id_number

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PASSWORD = "Test2026pass"
_counter = itertools.count(1)


def person_id(sequence: int = 1) -> str:
    return make_id_number("640425", date(1985, 6, 15), sequence)


def make_user(session: Session, role: str, **extra: Any) -> Actor:
    user = access_service.create_user(
        session,
        username=f"{role}_{next(_counter)}",
        password=PASSWORD,
        role=role,
        display_name=extra.pop("display_name", f"测试{role}"),
        **extra,
    )
    session.flush()
    return access_service.actor_for(user)


def reviewer_for(session: Session, department_code: str) -> Actor:
    return make_user(session, "reviewer", department_code=department_code)


def clerk(session: Session) -> Actor:
    return make_user(session, "clerk", region_code="640425")


def applicant(session: Session, sequence: int | None = None, name: str = "王小明") -> Actor:
    """A citizen whose identity is verified (level 2): they apply under this name.

    One account per person: without a ``sequence`` each call is another person (sequences
    100–899; tests that name a person use lower ones)."""
    if sequence is None:
        sequence = 100 + next(_people) % 800
    return make_user(session, "applicant", id_number=person_id(sequence), display_name=name)


_people = itertools.count()


def item_named(session: Session, name: str) -> ItemRead:
    page = catalog_service.search_items(session, q=name, size=10)
    for summary in page.items:
        if summary.name == name or name in summary.name:
            return catalog_service.get_item(session, code=summary.code)
    raise AssertionError(f"demo item not found: {name}")


def bundle_named(session: Session, name: str) -> Any:
    for bundle in catalog_service.list_bundles(session):
        if name in bundle.name:
            return bundle
    raise AssertionError(f"demo bundle not found: {name}")


def sample_form(items: list[ItemRead]) -> dict[str, Any]:
    return demo_sample_form(items, id_number=person_id(9))


def upload(session: Session, actor: Actor, content: bytes = PDF) -> str:
    return case_service.save_upload(
        session, actor=actor, filename="材料.pdf", content=content + str(next(_counter)).encode()
    ).upload_id


def application(
    session: Session,
    actor: Actor,
    *,
    item_code: str | None = None,
    bundle_code: str | None = None,
    id_number: str | None = None,
    name: str = "王小明",
) -> CaseCreate:
    items = (
        [catalog_service.get_item(session, code=item_code)]
        if item_code
        else catalog_service.get_bundle(session, code=bundle_code or "").items
    )
    materials = [
        MaterialIn(requirement_id=m.id, upload_id=upload(session, actor))
        for item in items
        for m in item.materials
        if case_service.must_upload(m)
    ]
    # A citizen applies for themselves: their verified account says who they are.
    applicant = (
        ApplicantIn(phone="13912345678")
        if actor.role.value == "applicant" and id_number is None
        else ApplicantIn(name=name, id_number=id_number or person_id(7), phone="13912345678")
    )
    return CaseCreate(
        item_code=item_code,
        bundle_code=bundle_code,
        applicant=applicant,
        form=sample_form(items),
        materials=materials,
        channel="window" if actor.role.value == "clerk" else "online",
    )


def submit(session: Session, actor: Actor, **kwargs: Any) -> CaseDetail:
    return case_service.submit_case(
        session, actor=actor, data=application(session, actor, **kwargs)
    )


def open_paper_checks(case: CaseDetail) -> list[int]:
    """Shared-data checks that did not pass and wait for the clerk to see the paper."""
    return [v.id for v in case.verifications if v.ask_for_paper and not v.paper_checked]


def act(
    session: Session,
    actor: Actor,
    case: CaseDetail,
    action: str,
    note: str = "",
    **payload: Any,
) -> CaseDetail:
    """Fire ``action``; acceptance ticks the open paper checks (the clerk holds the documents)
    unless the test says which with ``paper_checked``."""
    if action == "accept" and "paper_checked" not in payload and open_paper_checks(case):
        payload["paper_checked"] = open_paper_checks(case)
    return case_service.act(
        session,
        actor=actor,
        case_no=case.case_no,
        action=ActionIn(action=action, version=case.version, note=note, payload=payload),
    )
