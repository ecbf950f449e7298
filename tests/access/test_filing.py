"""On whose behalf an application may be filed: oneself, a linked enterprise, or a person who
authorized the filer (委托). Anything else is refused with a specific error and nothing is
stored — the 最低生活保障 filed by applicant_ma for applicant_li's identity must not happen."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from support import applicant, application, clerk, item_named, make_user, person_id
from tongban.access import delegations
from tongban.access.delegations import MAX_DAYS
from tongban.audit import service as audit_service
from tongban.cases import service as case_service
from tongban.cases.models import Case, CaseEvent, CaseVerification
from tongban.cases.schemas import ApplicantIn
from tongban.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from tongban.kit.clock import frozen, now
from tongban.kit.ids import make_uscc

DIBAO = "最低生活保障申请"
AGENT_PHONE = "13995400777"  # fictional


def stored(session: Session) -> tuple[int, int, int]:
    counts = [
        session.scalar(select(func.count()).select_from(model))
        for model in (Case, CaseEvent, CaseVerification)
    ]
    return tuple(int(n or 0) for n in counts)  # type: ignore[return-value]


def file_for(session: Session, agent, item_code: str, principal_id: str):  # type: ignore[no-untyped-def]
    data = application(session, agent, item_code=item_code)
    data = data.model_copy(update={"applicant": ApplicantIn(id_number=principal_id)})
    return case_service.submit_case(session, actor=agent, data=data)


def test_a_citizen_cannot_file_under_another_persons_identity(demo_session: Session) -> None:
    s = demo_session
    item = item_named(s, DIBAO)
    ma = applicant(s, 1, name="马晓燕")
    li_id = person_id(2)
    applicant(s, 2, name="李建军")
    before = stored(s)
    with pytest.raises(Forbidden) as refused:
        file_for(s, ma, item.code, li_id)
    assert refused.value.code == "applicant_not_authorized"
    assert refused.value.details == {"field": "applicant.id_number"}
    assert stored(s) == before == (0, 0, 0)
    # Typing a name changes nothing: a citizen's own application carries their account's.
    data = application(s, ma, item_code=item.code)
    data = data.model_copy(update={"applicant": ApplicantIn(name="李建军")})
    mine = case_service.submit_case(s, actor=ma, data=data)
    assert (mine.applicant_name, mine.applicant_id_number) == ("马晓燕", person_id(1))


def test_with_a_delegation_the_agent_files_and_both_follow_the_case(demo_session: Session) -> None:
    s = demo_session
    item = item_named(s, DIBAO)
    grandmother = applicant(s, 3, name="李秀英")
    grandson = make_user(
        s, "applicant", id_number=person_id(4), display_name="李小军", phone=AGENT_PHONE
    )
    given = delegations.give(
        s,
        principal=grandmother,
        agent_phone=AGENT_PHONE,
        item_codes=[item.code],
        valid_until=now() + timedelta(days=30),
    )
    assert (
        given.active
        and given.agent_name == "李小军"
        and given.principal_id_masked.endswith(person_id(3)[-4:])
    )
    case = file_for(s, grandson, item.code, person_id(3))
    assert case.applicant_name == "李秀英" and case.applicant_id_number == person_id(3)
    # Both see it in 我的办件; the agent's reads are recorded as the agent's.
    for who in (grandmother, grandson):
        page = case_service.my_cases(s, actor=who)
        assert [c.case_no for c in page.items] == [case.case_no]
    row = s.scalar(select(Case).where(Case.case_no == case.case_no))
    assert row is not None and row.filing_basis == "delegation" and row.delegation_id == given.id
    assert row.applicant_user_id == grandmother.user_id
    assert row.submitted_by_user_id == grandson.user_id
    seen = audit_service.my_data_accesses(s, actor=grandmother, page=1, size=50)
    assert any(entry.purpose_code == "agent" for entry in seen.items)

    # Outside its scope, after it ends, or once revoked: refused, nothing stored.
    other = item_named(s, "临时救助")
    before = stored(s)
    with pytest.raises(Forbidden):
        file_for(s, grandson, other.code, person_id(3))
    with frozen(now() + timedelta(days=31)), pytest.raises(Forbidden):
        file_for(s, grandson, item.code, person_id(3))
    delegations.revoke(s, actor=grandmother, delegation_id=given.id)
    with pytest.raises(Forbidden):
        file_for(s, grandson, item.code, person_id(3))
    assert stored(s) == before


def test_a_window_records_a_delegation_for_someone_without_an_account(
    demo_session: Session,
) -> None:
    s = demo_session
    item = item_named(s, DIBAO)
    window = clerk(s)
    son = make_user(
        s, "applicant", id_number=person_id(5), display_name="马建国", phone=AGENT_PHONE
    )
    with pytest.raises(Invalid) as no_consent:
        delegations.record_at_window(
            s,
            clerk=window,
            principal_name="马老汉",
            principal_id_number=person_id(6),
            agent_phone=AGENT_PHONE,
            item_codes=[],
            valid_until=now() + timedelta(days=90),
            consent="",
        )
    assert no_consent.value.code == "consent_required"
    with pytest.raises(Invalid) as too_long:
        delegations.record_at_window(
            s,
            clerk=window,
            principal_name="马老汉",
            principal_id_number=person_id(6),
            agent_phone=AGENT_PHONE,
            item_codes=[],
            valid_until=now() + timedelta(days=MAX_DAYS + 1),
            consent="本人到场，同意委托儿子代办",
        )
    assert too_long.value.code == "delegation_too_long"
    recorded = delegations.record_at_window(
        s,
        clerk=window,
        principal_name="马老汉",
        principal_id_number=person_id(6),
        agent_phone=AGENT_PHONE,
        item_codes=[],
        valid_until=now() + timedelta(days=90),
        consent="本人到场，同意委托儿子代办",
    )
    assert recorded.given_via == "window" and recorded.item_codes == []  # every item
    case = file_for(s, son, item.code, person_id(6))
    assert case.applicant_name == "马老汉"
    # When the father later gets an account and is verified, the case is his too.
    father = make_user(s, "applicant", id_number=person_id(6), display_name="马老汉")
    assert case_service.my_cases(s, actor=father).total == 0  # created directly, not verified
    from tongban import events
    from tongban.privacy.crypto import person_ref

    events.register_handlers()
    events.publish(s, events.IdentityVerified(father.user_id, person_ref(person_id(6)), 3))
    assert [c.case_no for c in case_service.my_cases(s, actor=father).items] == [case.case_no]


def test_an_unknown_or_unverified_agent_cannot_be_authorized(demo_session: Session) -> None:
    s = demo_session
    principal = applicant(s, 7)
    with pytest.raises(NotFound) as unknown:
        delegations.give(
            s,
            principal=principal,
            agent_phone="13995400999",
            item_codes=[],
            valid_until=now() + timedelta(days=1),
        )
    assert unknown.value.code == "agent_not_found"
    make_user(s, "applicant", phone=AGENT_PHONE, assurance_level=1)
    with pytest.raises(Conflict) as unverified:
        delegations.give(
            s,
            principal=principal,
            agent_phone=AGENT_PHONE,
            item_codes=[],
            valid_until=now() + timedelta(days=1),
        )
    assert unverified.value.code == "agent_not_verified"
    with pytest.raises(Invalid):
        delegations.give(
            s,
            principal=principal,
            agent_phone="12345",
            item_codes=[],
            valid_until=now() + timedelta(days=1),
        )


def test_level_and_enterprise_links_are_required(demo_session: Session) -> None:
    s = demo_session
    item = item_named(s, DIBAO)
    phone_only = make_user(s, "applicant", phone="13995400888", assurance_level=1)
    with pytest.raises(Forbidden) as low:
        case_service.submit_case(
            s, actor=phone_only, data=application(s, phone_only, item_code=item.code)
        )
    assert low.value.code == "assurance_level_too_low"
    assert low.value.details == {"required": 2, "current": 1}
    person = applicant(s, 8)
    company = ApplicantIn(kind="enterprise", credit_code=make_uscc("91640425MA76QY002"))
    data = application(s, person, item_code=item_named(s, "食品经营许可").code)
    with pytest.raises(Forbidden) as unlinked:
        case_service.submit_case(
            s, actor=person, data=data.model_copy(update={"applicant": company})
        )
    assert unlinked.value.code == "enterprise_not_linked"
    bad = ApplicantIn(kind="enterprise", credit_code="91640425MA76QY0020")
    with pytest.raises(DomainError) as invalid:
        case_service.submit_case(s, actor=person, data=data.model_copy(update={"applicant": bad}))
    assert invalid.value.code == "invalid_credit_code"
    assert stored(s) == (0, 0, 0)


def test_the_reported_case_over_the_api(client, demo_db: str) -> None:  # type: ignore[no-untyped-def]
    """applicant_ma filed 最低生活保障 for applicant_li's identity and it was accepted: now 403."""
    from tongban.db import session_factory
    from tongban.demo.legacy_people import ANCHORS

    li = ANCHORS[1]
    answer = client.post(
        "/api/v1/auth/token", json={"username": "applicant_ma", "password": "Demo@2026"}
    )
    auth = {"authorization": f"Bearer {answer.json()['access_token']}"}
    body = {
        "item_code": "11640425MB00010TBR051008000100001",
        "applicant": {"name": li.name, "id_number": li.id_number, "phone": "13900000001"},
        "form": {
            "household_size": 3,
            "monthly_income_yuan": 900,
            "reason": "无",
            "township": "白阳镇",
        },
    }
    refused = client.post("/api/v1/cases", json=body, headers=auth)
    assert refused.status_code == 403, refused.text
    error = refused.json()["error"]
    assert error["code"] == "applicant_not_authorized" and "委托" in error["message"]
    with session_factory(demo_db)() as s:
        assert stored(s) == (0, 0, 0)
