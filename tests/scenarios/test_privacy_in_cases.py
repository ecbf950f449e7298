"""Scenario: a 低保 application — staff see it masked, every look is recorded, plain on purpose.

张伟 applies for the minimum living allowance. The window clerk, the 民政局 reviewer
and the centre's administrator see his identity number, phone and household answers
masked; he sees his own plain; the security auditor cannot open the case at all.
The reviewer needs the identity number for the home visit, asks for it with a reason
and sees it plain in that one answer; the log says who, when, which field and why.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from support import act, applicant, clerk, item_named, make_user, person_id, reviewer_for, submit
from tongban.audit.models import AuditEntry
from tongban.cases import service as case_service
from tongban.errors import Forbidden, Invalid, NotFound
from tongban.privacy.crypto import person_ref

ID_FIELD = "case.applicant_id_number"


def log_since(session: Session, seq: int) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.seq > seq).order_by("seq")))


def last_seq(session: Session) -> int:
    entries = log_since(session, 0)
    return entries[-1].seq if entries else 0


def test_staff_see_a_low_income_application_masked_and_unmask_only_with_a_purpose(
    demo_session: Session,
) -> None:
    s = demo_session
    dibao = item_named(s, "最低生活保障")
    zhang_id = person_id(21)
    zhang = applicant(s, sequence=21, name="张伟")
    window = clerk(s)
    mzj = reviewer_for(s, dibao.department_code)
    other_department = next(
        code
        for code in ("11640425MB00002TBX", "11640425MB00003TBK")
        if code != dibao.department_code
    )
    stranger_reviewer = reviewer_for(s, other_department)
    admin = make_user(s, "admin", region_code="640425")
    auditor = make_user(s, "auditor")

    # 张伟 applies and reads his own application plain.
    mine = submit(s, zhang, item_code=dibao.code)  # for himself: his verified identity
    assert (mine.applicant_name, mine.applicant_id_number) == ("张伟", zhang_id)
    assert mine.applicant_id_visibility == "plain" and mine.form["reason"] != "***"

    # The window clerk sees the surname and the first 6 + last 4 digits only.
    at_window = case_service.get_case(s, actor=window, case_no=mine.case_no)
    assert at_window.applicant_name == "张*"
    assert at_window.applicant_id_number == f"640425********{zhang_id[-4:]}"
    assert at_window.applicant_phone == "139****5678"
    assert at_window.form["monthly_income_yuan"] == "***"  # 敏感个人信息: masked for staff
    assert zhang_id not in at_window.model_dump_json()

    accepted = act(s, window, at_window, "accept")
    assert accepted.applicant_id_visibility == "masked"

    # The centre's admin sees masked values too; the security auditor sees no case at all.
    as_admin = case_service.get_case(s, actor=admin, case_no=mine.case_no)
    assert as_admin.applicant_id_number == at_window.applicant_id_number
    assert as_admin.unmaskable_fields == []  # the policy gives the admin no unmask
    with pytest.raises(Forbidden):
        case_service.get_case(s, actor=auditor, case_no=mine.case_no)

    # The 民政局 reviewer (whose department has the task) asks for the identity number.
    in_review = case_service.get_case(s, actor=mzj, case_no=mine.case_no)
    assert ID_FIELD in in_review.unmaskable_fields
    with pytest.raises(Invalid) as no_reason:
        case_service.unmask(
            s, actor=mzj, case_no=mine.case_no, fields=[ID_FIELD], reason_code="", reason_text=""
        )
    assert no_reason.value.status == 422
    with pytest.raises(Invalid):
        case_service.unmask(
            s, actor=mzj, case_no=mine.case_no, fields=[ID_FIELD], reason_code="review",
            reason_text="看",
        )  # fmt: skip
    before = last_seq(s)
    plain = case_service.unmask(
        s,
        actor=mzj,
        case_no=mine.case_no,
        fields=[ID_FIELD],
        reason_code="identity_check",
        reason_text="入户调查前核对申请人身份",
    )
    assert plain == {ID_FIELD: zhang_id}
    (unmasked,) = log_since(s, before)
    assert (unmasked.action, unmasked.actor_user_id, unmasked.fields) == (
        "unmask",
        mzj.user_id,
        [ID_FIELD],
    )
    assert unmasked.purpose_code == "identity_check"
    assert unmasked.purpose_text == "入户调查前核对申请人身份"
    assert unmasked.person_ref == person_ref(zhang_id) and unmasked.related is True

    # The plain value was for that answer only: the next read is masked again.
    again = case_service.get_case(s, actor=mzj, case_no=mine.case_no)
    assert again.applicant_id_number == at_window.applicant_id_number

    # A reviewer of an unrelated department does not even see the case.
    with pytest.raises(NotFound):
        case_service.unmask(
            s, actor=stranger_reviewer, case_no=mine.case_no, fields=[ID_FIELD],
            reason_code="review", reason_text="核对申请信息",
        )  # fmt: skip
    # Nor may the admin ask: the role holds no unmask permission.
    with pytest.raises(Forbidden):
        case_service.unmask(
            s, actor=admin, case_no=mine.case_no, fields=[ID_FIELD], reason_code="review",
            reason_text="核对申请信息",
        )  # fmt: skip


def test_a_clerk_may_not_unmask_a_case_unrelated_to_their_work(demo_session: Session) -> None:
    s = demo_session
    dibao = item_named(s, "最低生活保障")
    owner = applicant(s, sequence=22)
    window = clerk(s)
    colleague = clerk(s)
    case = act(s, window, submit(s, owner, item_code=dibao.code, id_number=person_id(22)), "accept")
    # In review now: out of the acceptance queue, and the colleague never acted on it.
    seen = case_service.get_case(s, actor=colleague, case_no=case.case_no)
    assert seen.unmaskable_fields == []
    with pytest.raises(Forbidden) as refused:
        case_service.unmask(
            s, actor=colleague, case_no=case.case_no, fields=["*"], reason_code="review",
            reason_text="核对申请信息",
        )  # fmt: skip
    assert refused.value.code == "unmask_not_related"
    # The clerk who accepted it may, for every masked field at once ("*").
    plain = case_service.unmask(
        s, actor=window, case_no=case.case_no, fields=["*"], reason_code="contact_applicant",
        reason_text="电话通知补充材料",
    )  # fmt: skip
    assert plain["case.applicant_id_number"] == person_id(22)
    assert plain["case.applicant_phone"] == "13912345678"
    assert plain["form.household_size"] == "1"  # a number, plain as text
