"""The event wiring: case actions, deadline warnings and complaints queue their messages."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from feedback.feedback_support import complaint_about_item
from notify_support import SmtpSink, settings_env
from support import (
    act,
    applicant,
    clerk,
    item_named,
    make_user,
    person_id,
    reviewer_for,
    submit,
)
from tongban import events
from tongban.db import transaction
from tongban.feedback import service as feedback_service
from tongban.feedback.models import Complaint
from tongban.feedback.schemas import ComplaintActionIn, SweepReport
from tongban.kit.clock import frozen, now
from tongban.notify import handlers, jobs
from tongban.notify import service as notify_service
from tongban.notify.models import Notification
from tongban.privacy import scanner

ITEM = "最低生活保障"


def messages(session: Session, **where: object) -> list[Notification]:
    query = select(Notification).order_by(Notification.id)
    for name, value in where.items():
        query = query.where(getattr(Notification, name) == value)
    return list(session.scalars(query))


def transitioned(**changes: object) -> events.CaseTransitioned:
    values: dict[str, object] = {
        "case_no": "640425-20261203-000007",
        "action": "accept",
        "from_state": "submitted",
        "to_state": "in_review",
        "actor_id": None,
        "title": "最低生活保障申请",
        "query_code": "Q7W8E9",
        "seq": 3,
        **changes,
    }
    return events.CaseTransitioned(**values)  # type: ignore[arg-type]


def test_a_case_accepted_tells_its_applicant(demo_session: Session) -> None:
    events.register_handlers()
    s = demo_session
    person = applicant(s, sequence=41)
    item = item_named(s, ITEM)
    case = submit(s, person, item_code=item.code, id_number=person_id(41))
    act(s, clerk(s), case, "accept")
    (message,) = messages(s, recipient_user_id=person.user_id, kind="case_accepted")
    assert message.channel == "site" and message.read_at is None
    assert case.case_no in message.body and item.name[:4] in message.body
    assert "我的办件" in message.body
    assert scanner.find(message.body) == []


def test_without_an_account_the_phone_on_the_application_gets_an_sms(session: Session) -> None:
    with settings_env(sms_gateway="demo"):
        handlers.on_case_transitioned(
            session, transitioned(applicant_phone="13912345678", applicant_user_id=None)
        )
    (message,) = messages(session)
    assert message.channel == "sms" and message.recipient_user_id is None
    assert "查询码 Q7W8E9" in message.body and "640425-20261203-000007" in message.body


def test_an_agent_who_filed_hears_too(demo_session: Session) -> None:
    session = demo_session
    principal = applicant(session, sequence=42)
    agent = applicant(session, sequence=43)
    window = clerk(session)
    handlers.on_case_transitioned(
        session,
        transitioned(applicant_user_id=principal.user_id, submitted_by_user_id=agent.user_id),
    )
    handlers.on_case_transitioned(
        session,
        transitioned(
            seq=4, applicant_user_id=principal.user_id, submitted_by_user_id=window.user_id
        ),
    )
    assert [m.recipient_user_id for m in messages(session)] == [
        principal.user_id,
        agent.user_id,
        principal.user_id,  # the window clerk who filed is not told
    ]


def test_each_action_has_its_message(session: Session) -> None:
    person = applicant(session, sequence=44)
    cases = [
        ("accept", {}, "case_accepted"),
        ("refuse", {}, "case_refused"),
        ("request_supplement", {"missing": ["户口簿", "身份证 640425199003159981 复印件"]}, None),
        ("decide", {"decision": "approve"}, "case_approved"),
        ("decide", {"decision": "deny"}, "case_denied"),
        ("close", {"delivery": "pickup"}, "case_closed"),
        ("close", {"delivery": "electronic"}, "case_decision_ready"),
        ("deliver", {"method": "mail"}, "case_delivered"),
        ("receive_electronic", {}, "case_received"),
        ("approve_task", {}, None),
    ]
    for seq, (action, payload, _) in enumerate(cases, start=1):
        handlers.on_case_transitioned(
            session,
            transitioned(action=action, payload=payload, seq=seq, applicant_user_id=person.user_id),
        )
    kinds = [m.kind for m in messages(session)]
    assert kinds == [
        "case_accepted",
        "case_refused",
        "case_supplement",
        "case_approved",
        "case_denied",
        "case_closed",
        "case_decision_ready",
        "case_delivered",
        "case_received",
    ]
    supplement = messages(session, kind="case_supplement")[0]
    assert "户口簿、身份证 640425********9981 复印件" in supplement.body
    assert "邮寄送达" in messages(session, kind="case_delivered")[0].body
    assert "电子决定书已可下载" in messages(session, kind="case_decision_ready")[0].body


def test_an_event_handled_twice_queues_once(session: Session) -> None:
    person = applicant(session, sequence=45)
    event = transitioned(applicant_user_id=person.user_id)
    handlers.on_case_transitioned(session, event)
    handlers.on_case_transitioned(session, event)
    assert len(messages(session)) == 1


def test_deadline_warnings_go_to_the_departments_reviewers_once_a_day(
    demo_session: Session,
) -> None:
    s = demo_session
    department = item_named(s, ITEM).department_code
    mine = [reviewer_for(s, department), reviewer_for(s, department)]
    other = reviewer_for(s, "11640425MB00002TBX")
    warning = events.CaseDeadlineNear(
        case_no="640425-20261203-000009",
        title="最低生活保障申请",
        status="warning",
        deadline_on=date(2026, 12, 10),
        department_codes=(department,),
        region_code="640425",
    )
    handlers.on_case_deadline_near(s, warning)
    handlers.on_case_deadline_near(s, warning)  # the sweep ran again the same day
    told = {m.recipient_user_id for m in messages(s, kind="case_deadline_warning")}
    assert {r.user_id for r in mine} <= told and other.user_id not in told
    assert len(messages(s, kind="case_deadline_warning")) == len(told)
    text = messages(s, kind="case_deadline_warning")[0].body
    assert "2026-12-10" in text and "工作台" in text


def test_a_complaint_answered_tells_the_complainant(demo_session: Session) -> None:
    events.register_handlers()
    s = demo_session
    person = applicant(s, sequence=46)
    reviewer = reviewer_for(s, item_named(s, ITEM).department_code)
    filed = feedback_service.file_complaint(s, actor=person, data=complaint_about_item(s))
    feedback_service.act(
        s,
        actor=reviewer,
        complaint_no=filed.complaint_no,
        data=ComplaintActionIn(action="respond", note="已收到，正在核实"),
    )
    (message,) = messages(s, recipient_user_id=person.user_id)
    assert message.kind == "complaint_responded" and filed.complaint_no in message.body
    assert "13912345678" not in message.body  # the complaint's text quotes a phone number


def test_an_anonymous_complainant_gets_an_sms(demo_session: Session) -> None:
    events.register_handlers()
    s = demo_session
    reviewer = reviewer_for(s, item_named(s, ITEM).department_code)
    filed = feedback_service.file_complaint(s, actor=None, data=complaint_about_item(s))
    with settings_env(sms_gateway="demo"):
        feedback_service.act(
            s,
            actor=reviewer,
            complaint_no=filed.complaint_no,
            data=ComplaintActionIn(action="resolve", note="已增开窗口"),
        )
    (message,) = messages(s, channel="sms")
    assert message.kind == "complaint_resolved" and message.address == "13912345678"


def test_complaint_deadlines_warn_the_department_and_escalate_to_the_center(
    demo_db: str,
) -> None:
    events.register_handlers()
    with transaction(demo_db) as s, frozen(now() - timedelta(days=2)):
        filed = feedback_service.file_complaint(s, actor=None, data=complaint_about_item(s))
        department = filed.department_code
        reviewer = reviewer_for(s, department)
        admin = make_user(s, "admin", region_code="640425")
    with transaction(demo_db) as s:
        feedback_service.sweep_deadlines(s, at=now(), report=SweepReport())
    with transaction(demo_db) as s:
        complaint = s.scalar(select(Complaint).where(Complaint.complaint_no == filed.complaint_no))
        assert complaint is not None and complaint.escalation_level == 2
        to_reviewer = {m.kind for m in messages(s, recipient_user_id=reviewer.user_id)}
        to_admin = {m.kind for m in messages(s, recipient_user_id=admin.user_id)}
    assert {"complaint_deadline_warning", "complaint_deadline_missed"} <= to_reviewer
    assert "complaint_deadline_escalated" not in to_reviewer
    assert to_admin == {"complaint_deadline_escalated"}
    with transaction(demo_db) as s:  # the next sweep raises nothing new
        before = len(messages(s))
        feedback_service.sweep_deadlines(s, at=now(), report=SweepReport())
        assert len(messages(s)) == before


def test_a_sign_up_code_goes_by_sms_and_by_mail(clean_db: str, smtp_sink: SmtpSink) -> None:
    issued = events.VerificationCodeIssued(
        code_id=7, purpose="signup", phone="13912345678", code="604117", minutes=10,
        email="new.citizen@example.cn",
    )  # fmt: skip
    with settings_env(sms_gateway="demo"):
        with transaction(clean_db) as s:
            handlers.on_verification_code_issued(s, issued)
            handlers.on_verification_code_issued(s, issued)  # handled twice: queued once
        assert jobs.deliver_due(clean_db).sent == 2
        with transaction(clean_db) as s:
            (sms,) = notify_service.demo_sms(s)
            assert messages(s, channel="site") == []  # a code is never an in-site message
    assert "604117" in sms.text and "注册通办账号" in sms.text
    (mail,) = smtp_sink.wait_for(1)
    assert SmtpSink.code_in(mail) == "604117" and mail["To"] == "new.citizen@example.cn"
