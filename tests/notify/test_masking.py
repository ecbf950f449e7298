"""No message carries a personal number beyond a masked one: every stored and every
displayed text is scanned with the privacy scanner after events full of such numbers."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from notify_support import settings_env
from support import applicant, make_user
from tongban import events
from tongban.notify import handlers, service
from tongban.notify.models import Notification
from tongban.privacy import scanner

ID_NUMBER = "640425199003159981"
CARD = "6222021234567890128"
PHONE = "13987654321"


def test_every_message_is_free_of_personal_numbers(session: Session) -> None:
    person = make_user(session, "applicant", phone=PHONE, email="ma@example.cn")
    stranger = applicant(session, sequence=51)
    base = {
        "case_no": "640425-20261203-000003",
        "title": f"最低生活保障申请（{ID_NUMBER}）",  # a title never holds one; if it did
        "query_code": "Z1X2C3",
        "actor_id": None,
        "from_state": "submitted",
        "to_state": "in_review",
    }
    payloads = [
        ("accept", {}),
        ("request_supplement", {"missing": [f"银行卡号 {CARD}", f"身份证 {ID_NUMBER}"]}),
        ("decide", {"decision": "deny"}),
        ("close", {"delivery": "electronic"}),
        ("deliver", {"method": "pickup"}),
    ]
    with settings_env(sms_gateway="demo", smtp_host="127.0.0.1"):
        for seq, (action, payload) in enumerate(payloads, start=1):
            for who in ({"applicant_user_id": person.user_id}, {"applicant_phone": PHONE}):
                handlers.on_case_transitioned(
                    session,
                    events.CaseTransitioned(action=action, payload=payload, seq=seq, **base, **who),  # type: ignore[arg-type]
                )
        handlers.on_complaint_answered(
            session,
            events.ComplaintAnswered(
                complaint_no="TS20261203ABCDEF",
                action="respond",
                cycle=1,
                target_name=f"窗口（电话 {PHONE}）",
                complainant_user_id=None,
                contact_phone=PHONE,
            ),
        )
        service.notify(
            session,
            kind="verification_code",
            params={"code": "918273", "purpose": "signup"},
            dedupe_key="mask:code",
            phone=PHONE,
            email="ma@example.cn",
        )
    rows = list(session.scalars(select(Notification)))
    assert {r.channel for r in rows} == {"site", "email", "sms"} and len(rows) > 20
    for row in rows:
        for text in (row.subject, row.body, *map(str, row.params.values())):
            assert scanner.find(text) == [], (row.kind, row.channel, text)
    shown = service.my_messages(session, actor=person, size=100)
    assert shown.total == len(payloads)
    for message in shown.items:
        assert scanner.find(message.title + message.text) == [], message.text
    assert service.my_messages(session, actor=stranger).total == 0
