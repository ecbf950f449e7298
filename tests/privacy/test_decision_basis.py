"""Reviewers see what they judge: the form fields a decision rests on are plain to the
reviewers of the departments handling the case (and still recorded); the identity number
stays masked; other staff see them by their class."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from support import act, applicant, clerk, item_named, make_user, reviewer_for, submit
from tongban.audit.models import AuditEntry
from tongban.cases import service as case_service
from tongban.catalog import service as catalog_service
from tongban.catalog.schemas import ItemCreate
from tongban.errors import Invalid

DIBAO = "最低生活保障申请"


def test_the_handling_reviewer_sees_income_and_household_size(demo_session: Session) -> None:
    s = demo_session
    item = item_named(s, DIBAO)
    person, window = applicant(s), clerk(s)
    handling = reviewer_for(s, item.department_code)
    other = reviewer_for(s, "11640425MB00002TBX")
    case = act(s, window, submit(s, person, item_code=item.code), "accept")
    seen = case_service.get_case(s, actor=handling, case_no=case.case_no)
    for field in ("household_size", "monthly_income_yuan", "reason"):
        assert seen.form_visibility[field] == "plain", field
        assert seen.form[field] != "***"
    assert seen.applicant_id_visibility == "masked"  # the identity needs a reason to unmask
    assert "case.applicant_id_number" in seen.unmaskable_fields
    assert "form.monthly_income_yuan" not in seen.unmaskable_fields  # already plain
    entry = s.scalars(select(AuditEntry).where(AuditEntry.actor_user_id == handling.user_id)).all()[
        -1
    ]
    assert "form.monthly_income_yuan" in entry.fields and entry.related is True
    # The window clerk and the centre's admin still see them masked; another department
    # does not see the case at all.
    assert case.form["monthly_income_yuan"] == "***"
    admin = make_user(s, "admin", region_code="640425")
    assert (
        case_service.get_case(s, actor=admin, case_no=case.case_no).form["monthly_income_yuan"]
        == "***"
    )
    with pytest.raises(Exception):  # noqa: B017 — 404 case_not_found
        case_service.get_case(s, actor=other, case_no=case.case_no)


def test_an_identity_number_cannot_be_a_basis_shown_plain(demo_session: Session) -> None:
    s = demo_session
    item = item_named(s, "结婚登记")
    data = ItemCreate.model_validate({**item.model_dump(), "code": item.code + "X"}).model_dump()
    data["form_schema"]["properties"]["partner_id"]["x-privacy"]["basis"] = True
    with pytest.raises(Invalid) as refused:
        catalog_service.upsert_item(s, data=ItemCreate.model_validate(data))
    assert refused.value.code == "form_field_declaration_invalid"
