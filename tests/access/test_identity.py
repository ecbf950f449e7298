"""实名认证 against the demo county's population register, and enterprises linked through
the enterprise register — both asked through the real exchange (signed, audited)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange_support import county_session, demo_actor
from support import application, item_named, make_user
from tongban.access import enterprises, identity
from tongban.access.models import IdentityCheck
from tongban.access.throttle import CountedRefusal
from tongban.audit.models import AuditEntry
from tongban.cases import service as case_service
from tongban.cases.schemas import ApplicantIn
from tongban.demo.legacy import LegacySources, create_legacy_sources
from tongban.demo.legacy_enterprise import JIANJUN_TRADING, RUYUAN_FARMING
from tongban.demo.legacy_people import ANCHORS
from tongban.errors import Conflict, DomainError

MA, LI = ANCHORS


@pytest.fixture(scope="module")
def legacy(tmp_path_factory: pytest.TempPathFactory) -> LegacySources:
    return create_legacy_sources(tmp_path_factory.mktemp("legacy"), people=600)


@pytest.fixture
def county(demo_db: str, legacy: LegacySources) -> Iterator[Session]:
    with county_session(demo_db, legacy.directory) as session:
        yield session


def test_a_wrong_name_is_refused_and_an_identity_has_one_account(
    county: Session, legacy: LegacySources
) -> None:
    s = county
    _, number = resident(legacy)
    person = make_user(s, "applicant", phone="13995400555", assurance_level=1)
    with pytest.raises(CountedRefusal) as mismatch:
        identity.verify_identity(s, actor=person, name="欧阳不对", id_number=number)
    assert mismatch.value.code == "identity_mismatch" and mismatch.value.status == 422
    with pytest.raises(Conflict) as taken:  # 马晓燕 already has the demo account
        identity.verify_identity(s, actor=person, name=MA.name, id_number=MA.id_number)
    assert taken.value.code == "identity_registered"

    checks = list(s.scalars(select(IdentityCheck).where(IdentityCheck.user_id == person.user_id)))
    assert [(c.method, c.outcome) for c in checks] == [("population_register", "mismatch")]
    # The register was asked through the exchange: signed, and in the access log.
    asked = list(s.scalars(select(AuditEntry).where(AuditEntry.subject_kind == "exchange")))
    assert asked and all("目的 real_name_verification" in e.purpose_text for e in asked)
    assert all("platform:real_name_verification" in e.purpose_text for e in asked)


def test_the_register_confirms_a_resident_and_the_level_rises(
    county: Session, legacy: LegacySources
) -> None:
    s = county
    name, number = resident(legacy)
    person = make_user(s, "applicant", phone="13995400557", assurance_level=1)
    result = identity.verify_identity(s, actor=person, name=name, id_number=number)
    assert result.level == 2 and result.name == name and result.request_id
    for attempt in range(4):  # the day's attempts on one identity are counted
        other = make_user(s, "applicant", phone=f"139954006{attempt:02d}", assurance_level=1)
        with pytest.raises(Conflict):
            identity.verify_identity(s, actor=other, name=name, id_number=number)


def resident(legacy: LegacySources) -> tuple[str, str]:
    import sqlite3

    from tongban.kit.ids import is_valid_id_number

    with sqlite3.connect(legacy.population) as db:
        rows = db.execute("SELECT XM, GMSFHM, HJDZ FROM RK_JBXX").fetchall()
    numbers = [str(r[1]) for r in rows]
    anchors = {p.id_number for p in ANCHORS}
    for name, number, address in rows:
        number = str(number)
        if (
            number not in anchors
            and len(number) == 18
            and is_valid_id_number(number)
            and numbers.count(number) == 1
            and str(name) == str(name).strip()
            and "彭阳县" in str(address or "")
        ):
            return str(name), number
    raise AssertionError("no clean resident")


def test_a_legal_representative_and_an_agent_link_their_enterprises(county: Session) -> None:
    s = county
    li, ma = demo_actor(s, "applicant_li"), demo_actor(s, "applicant_ma")
    linked = enterprises.link(
        s, actor=li, credit_code=JIANJUN_TRADING.credit_code, capacity="legal_representative"
    )
    assert (linked.name, linked.capacity) == (JIANJUN_TRADING.name, "legal_representative")
    with pytest.raises(CountedRefusal) as not_his:
        enterprises.link(
            s, actor=li, credit_code=RUYUAN_FARMING.credit_code, capacity="legal_representative"
        )
    assert not_his.value.code == "enterprise_link_refused"
    as_agent = enterprises.link(
        s, actor=ma, credit_code=RUYUAN_FARMING.credit_code.lower(), capacity="agent"
    )
    assert as_agent.name == RUYUAN_FARMING.name
    with pytest.raises(DomainError) as bad:
        enterprises.link(s, actor=ma, credit_code="91640425MA7RY00020", capacity="agent")
    assert bad.value.code == "invalid_credit_code"

    # 马晓燕 applies for the enterprise she acts for: its name and code, not hers.
    item = item_named(s, "食品经营许可")
    data = application(s, ma, item_code=item.code)
    company = ApplicantIn(kind="enterprise", credit_code=RUYUAN_FARMING.credit_code)
    case = case_service.submit_case(
        s, actor=ma, data=data.model_copy(update={"applicant": company})
    )
    assert case.applicant_kind == "enterprise"
    assert (case.applicant_name, case.applicant_id_number) == (
        RUYUAN_FARMING.name,
        RUYUAN_FARMING.credit_code,
    )
    licence = [v for v in case.verifications if v.requirement_name == "营业执照"]
    assert licence and licence[0].outcome == "verified"  # the register says 存续


def test_a_material_shared_data_verified_is_not_offered_for_supplement(county: Session) -> None:
    s = county
    ma = demo_actor(s, "applicant_ma")
    item = item_named(s, "最低生活保障申请")
    case = case_service.submit_case(s, actor=ma, data=application(s, ma, item_code=item.code))
    family = next(v for v in case.verifications if v.requirement_name == "家庭成员居民身份证")
    assert family.outcome == "verified"
    offered = [m.name for m in case_service.supplement_choices(s, case=case)]
    assert "家庭成员居民身份证" not in offered and "最低生活保障申请书" in offered
