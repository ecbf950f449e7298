"""The verification step at submission: refusals and misconfiguration are outcomes, not errors;
the event log holds no personal values; paper checks are recorded explicitly."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from exchange_support import county_session
from exchange_support import demo_actor as actor
from tongban.cases import service as case_service
from tongban.cases.schemas import ActionIn, ApplicantIn, CaseCreate, CaseDetail, MaterialIn
from tongban.catalog import service as catalog_service
from tongban.catalog.schemas import ItemCreate
from tongban.demo.cases import SAMPLE_PDF
from tongban.demo.legacy import LegacySources, create_legacy_sources
from tongban.demo.legacy_people import ANCHORS
from tongban.errors import Invalid

LOAN = "11640425MB00009TBM201007100100001"
MA = ANCHORS[0]
FORM = {"loan_yuan": 200000, "years": 10, "property_address": "彭阳县白阳镇"}


@pytest.fixture(scope="module")
def legacy(tmp_path_factory: pytest.TempPathFactory) -> LegacySources:
    return create_legacy_sources(tmp_path_factory.mktemp("legacy"), people=300)


@pytest.fixture
def county(demo_db: str, legacy: LegacySources) -> Iterator[Session]:
    with county_session(demo_db, legacy.directory) as session:
        yield session


def submit(session: Session) -> CaseDetail:
    ma = actor(session, "applicant_ma")
    item = catalog_service.get_item(session, code=LOAN)
    materials = [
        MaterialIn(
            requirement_id=m.id,
            upload_id=case_service.save_upload(
                session, actor=ma, filename="a.pdf", content=SAMPLE_PDF
            ).upload_id,
        )
        for m in item.materials
        if case_service.must_upload(m)
    ]
    return case_service.submit_case(
        session,
        actor=ma,
        data=CaseCreate(
            item_code=LOAN,
            applicant=ApplicantIn(name=MA.name, id_number=MA.id_number),
            form=FORM,
            materials=materials,
        ),
    )


def test_without_consent_the_property_check_is_denied_and_asks_for_paper(county: Session) -> None:
    case = submit(county)
    by_name = {v.requirement_name: v for v in case.verifications}
    house = by_name["无其他住房证明"]
    assert (house.outcome, house.code) == ("denied", "exchange_consent_missing")
    assert house.ask_for_paper
    assert by_name["申请人户口簿"].outcome == "verified"


def test_the_event_log_keeps_no_personal_value(county: Session) -> None:
    case = submit(county)
    for event in (e for e in case.events if e.action == "verify"):
        text = f"{event.note} {event.payload}"
        assert MA.name not in text and MA.id_number not in text
        assert event.payload["outcome"] and event.payload["service"]


def test_an_item_naming_an_unregistered_service_is_refused_on_save(county: Session) -> None:
    item = catalog_service.get_item(county, code=LOAN)
    data = ItemCreate.model_validate(item.model_dump())
    data.materials[-1].replaced_by_data.service = "marriage.status"  # type: ignore[union-attr]
    with pytest.raises(Invalid) as refused:
        catalog_service.upsert_item(county, data=data)
    assert refused.value.code == "replacement_unknown_service"


def test_a_paper_check_names_a_failed_verification_of_this_case(county: Session) -> None:
    case = submit(county)
    verified = next(v for v in case.verifications if v.outcome == "verified")
    clerk = actor(county, "clerk")
    for bad in ([verified.id], [999999], "1"):
        with pytest.raises(Invalid):
            case_service.act(
                county,
                actor=clerk,
                case_no=case.case_no,
                action=ActionIn(
                    action="accept", version=case.version, payload={"paper_checked": bad}
                ),
            )
