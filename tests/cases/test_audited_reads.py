"""Every read of a case's personal data leaves an audit entry: whose data, which fields, why.

Reads, lists, queues, downloads and the public progress query, on both databases.
"""

from __future__ import annotations

from typing import NamedTuple

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from support import act, applicant, clerk, item_named, make_user, person_id, reviewer_for, submit
from tongban.access.rules import Actor
from tongban.audit.models import AuditEntry
from tongban.cases import service as case_service
from tongban.cases.schemas import CaseDetail
from tongban.errors import Forbidden, Invalid
from tongban.privacy.crypto import person_ref


def entries_after(session: Session, seq: int) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.seq > seq).order_by(AuditEntry.seq)
    return list(session.scalars(query))


def head(session: Session) -> int:
    return max((e.seq for e in entries_after(session, 0)), default=0)


class World(NamedTuple):
    waiting: CaseDetail  # at the window (acceptance queue)
    in_review: CaseDetail  # accepted by ``window``, a task at 市场监管
    window: Actor
    scj: Actor  # reviewer of 市场监管


def _two_cases(s: Session) -> World:
    dibao = item_named(s, "最低生活保障")
    shop = item_named(s, "个体工商户")
    window = clerk(s)
    waiting = submit(s, applicant(s, 31), item_code=dibao.code, id_number=person_id(31))
    in_review = act(
        s, window, submit(s, applicant(s, 32), item_code=shop.code, id_number=person_id(32)),
        "accept",
    )  # fmt: skip
    return World(waiting, in_review, window, reviewer_for(s, shop.department_code))


def test_a_read_records_the_fields_shown_the_person_and_the_purpose(demo_session: Session) -> None:
    s = demo_session
    w = _two_cases(s)
    waiting = w.waiting
    owner_id = person_id(31)
    before = head(s)
    seen = case_service.get_case(s, actor=w.window, case_no=waiting.case_no)
    (entry,) = entries_after(s, before)
    assert (entry.action, entry.subject_kind, entry.subject_ref) == ("read", "case", seen.case_no)
    assert entry.person_ref == person_ref(owner_id)
    assert entry.purpose_code == "case_handling"
    assert entry.related is True  # in the acceptance queue of the clerk's region
    assert {"case.applicant_name", "case.applicant_id_number", "case.applicant_phone"} <= set(
        entry.fields
    )
    assert any(f.startswith("form.") for f in entry.fields)
    assert owner_id not in str(entry.fields) + entry.purpose_text


def test_lists_and_queues_record_one_entry_per_case_with_related_set(demo_session: Session) -> None:
    s = demo_session
    w = _two_cases(s)
    waiting, in_review = w.waiting, w.in_review
    colleague = clerk(s)

    before = head(s)
    page = case_service.my_cases(s, actor=colleague)
    assert {c.case_no for c in page.items} == {waiting.case_no, in_review.case_no}
    assert all(c.applicant_name_visibility == "masked" for c in page.items)
    related = {e.subject_ref: e.related for e in entries_after(s, before)}
    # Waiting at the window: the colleague's work. In review, accepted by someone else: not.
    assert related == {waiting.case_no: True, in_review.case_no: False}

    before = head(s)
    case_service.my_cases(s, actor=w.window)
    assert {e.related for e in entries_after(s, before)} == {True}  # acted on the other one

    before = head(s)
    queue = case_service.task_queue(s, actor=w.scj)
    assert [t.case_no for t in queue.items] == [in_review.case_no]
    assert queue.items[0].applicant_name == "王**"
    (entry,) = entries_after(s, before)
    assert entry.person_ref == person_ref(person_id(32)) and entry.related is True
    assert entry.fields == ["case.applicant_name"]

    someone = applicant(s, 33)  # creating the account is itself recorded: do it first
    before = head(s)
    owner = case_service.my_cases(s, actor=someone)
    assert owner.items == [] and entries_after(s, before) == []  # nothing shown, nothing recorded


def test_list_filters_by_item_and_state(demo_session: Session) -> None:
    s = demo_session
    w = _two_cases(s)
    waiting, in_review = w.waiting, w.in_review
    by_item = case_service.my_cases(s, actor=w.window, item_code=waiting.item_code)
    assert [c.case_no for c in by_item.items] == [waiting.case_no]
    by_state = case_service.my_cases(s, actor=w.window, state="in_review")
    assert [c.case_no for c in by_state.items] == [in_review.case_no]
    with pytest.raises(Invalid):
        case_service.my_cases(s, actor=w.window, state="lost")


def test_downloads_and_the_public_progress_query_are_audited(demo_session: Session) -> None:
    s = demo_session
    w = _two_cases(s)
    in_review = w.in_review
    material = in_review.materials[0]

    before = head(s)
    name, _, content = case_service.read_material(
        s, actor=w.scj, case_no=in_review.case_no, material_id=material.id
    )
    assert content.startswith(b"%PDF") and name == "材料.pdf"
    (download,) = entries_after(s, before)
    assert (download.action, download.fields) == ("download", ["upload.content"])
    assert download.person_ref == person_ref(person_id(32)) and download.related is True

    # The centre's admin may see the case, but the policy keeps material files from them.
    admin = make_user(s, "admin", region_code="640425")
    with pytest.raises(Forbidden) as hidden:
        case_service.read_material(
            s, actor=admin, case_no=in_review.case_no, material_id=material.id
        )
    assert hidden.value.code == "material_hidden"

    before = head(s)
    public = case_service.progress(
        s, case_no=in_review.case_no, query_code=in_review.query_code or ""
    )
    assert public.applicant_name_masked == "王**"
    assert all(e.actor_name == "" and e.note in (None, "") for e in public.timeline)
    (query,) = entries_after(s, before)
    assert query.actor_user_id is None and query.actor_role == "anonymous"
    assert (query.purpose_code, query.related) == ("progress_query", None)
    assert query.fields == ["case.applicant_name"]


def test_acting_and_submitting_record_what_the_answer_shows(demo_session: Session) -> None:
    s = demo_session
    dibao = item_named(s, "最低生活保障")
    owner = applicant(s, 34)
    before = head(s)
    case = submit(s, owner, item_code=dibao.code, id_number=person_id(34))
    (own,) = entries_after(s, before)
    assert (own.purpose_code, own.related, own.actor_user_id) == ("self", True, owner.user_id)

    window = clerk(s)
    before = head(s)
    act(s, window, case, "accept")
    (acted,) = entries_after(s, before)
    assert (acted.action, acted.actor_user_id, acted.related) == ("read", window.user_id, True)
