"""Queuing: in the caller's transaction, once per key, only on configured channels."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from notify_support import SmtpSink, settings_env
from support import applicant, make_user
from tongban.db import transaction
from tongban.kit.clock import frozen, now
from tongban.notify import service
from tongban.notify.models import Notification

ACCEPTED = {"case_no": "640425-20261203-000001", "title": "最低生活保障申请"}


def rows(session: Session) -> list[Notification]:
    return list(session.scalars(select(Notification).order_by(Notification.id)))


def test_a_site_message_is_written_in_the_callers_transaction(clean_db: str) -> None:
    with transaction(clean_db) as s:
        owner = applicant(s, sequence=31)
    try:
        with transaction(clean_db) as s:
            queued = service.notify(
                s, kind="case_accepted", params=ACCEPTED, dedupe_key="t:1", user_id=owner.user_id
            )
            assert queued == 1
            raise RuntimeError("the case action fails after the message was queued")
    except RuntimeError:
        pass
    with transaction(clean_db) as s:
        assert rows(s) == []  # rolled back with the change that caused it
        service.notify(
            s, kind="case_accepted", params=ACCEPTED, dedupe_key="t:1", user_id=owner.user_id
        )
    with transaction(clean_db) as s:
        (row,) = rows(s)
        assert (row.channel, row.status, row.recipient_user_id) == ("site", "sent", owner.user_id)
        assert row.read_at is None and row.sent_at is not None
        assert "最低生活保障申请" in row.body and "已受理" in row.subject


def test_the_same_key_queues_once(session: Session) -> None:
    owner = applicant(session, sequence=31)
    first = service.notify(
        session, kind="case_accepted", params=ACCEPTED, dedupe_key="t:2", user_id=owner.user_id
    )
    again = service.notify(
        session, kind="case_accepted", params=ACCEPTED, dedupe_key="t:2", user_id=owner.user_id
    )
    assert (first, again) == (1, 0)
    assert len(rows(session)) == 1


def test_the_same_key_from_two_transactions_makes_one_row(clean_db: str) -> None:
    with transaction(clean_db) as s:
        owner = applicant(s, sequence=31)
    for _ in range(2):
        with transaction(clean_db) as s:
            service.notify(
                s, kind="case_accepted", params=ACCEPTED, dedupe_key="t:3", user_id=owner.user_id
            )
    with transaction(clean_db) as s:
        assert len(rows(s)) == 1


def test_channels_follow_the_configuration_and_the_addresses(
    session: Session, smtp_sink: SmtpSink
) -> None:
    owner = make_user(session, "applicant", phone="13912345678", email="ma.xiaoyan@example.cn")
    # SMTP configured, no SMS gateway: site + e-mail.
    assert (
        service.notify(
            session, kind="case_accepted", params=ACCEPTED, dedupe_key="t:4", user_id=owner.user_id
        )
        == 2
    )
    with settings_env(sms_gateway="demo"):
        assert (
            service.notify(
                session,
                kind="case_accepted",
                params=ACCEPTED,
                dedupe_key="t:4",
                user_id=owner.user_id,
            )
            == 1
        )  # only the SMS is new
    by_channel = {row.channel: row for row in rows(session)}
    assert set(by_channel) == {"site", "email", "sms"}
    assert by_channel["email"].address == "ma.xiaoyan@example.cn"
    assert by_channel["email"].status == "pending" and by_channel["email"].subject.startswith(
        "【通办】"
    )
    assert by_channel["sms"].address == "13912345678"
    assert by_channel["sms"].body.startswith("【通办】")
    # Stored encrypted: the plain address is not in the table.
    raw = session.execute(text("SELECT address, body FROM notifications")).all()
    assert all("13912345678" not in (a or "") and "最低" not in (b or "") for a, b in raw)


def test_without_an_account_there_is_no_site_message(session: Session) -> None:
    with settings_env(sms_gateway="demo"):
        queued = service.notify(
            session,
            kind="case_accepted",
            params={**ACCEPTED, "query_code": "Q1W2E3"},
            dedupe_key="t:5",
            phone="139 1234 5678",
        )
    (row,) = rows(session)
    assert queued == 1 and row.channel == "sms" and row.recipient_user_id is None
    assert "查询码 Q1W2E3" in row.body
    assert "13912345678" not in row.dedupe_key  # the recipient is a blind index


def test_nothing_is_queued_where_nothing_is_configured(session: Session) -> None:
    queued = service.notify(
        session,
        kind="verification_code",
        params={"code": "123456", "purpose": "signup"},
        dedupe_key="t:6",
        phone="13912345678",
        email="a@example.cn",
    )
    assert queued == 0 and rows(session) == []


def test_a_verification_code_never_goes_to_the_inbox_and_expires(
    session: Session, smtp_sink: SmtpSink
) -> None:
    owner = applicant(session, sequence=31)
    at = now()
    with frozen(at):
        queued = service.notify(
            session,
            kind="verification_code",
            params={"code": "654321", "purpose": "reset", "minutes": 5},
            dedupe_key="code:1",
            user_id=owner.user_id,
            email="owner@example.cn",
        )
    (row,) = rows(session)
    assert queued == 1 and row.channel == "email"
    assert row.expires_at == at + timedelta(minutes=5)
    assert "重置通办账号密码" in row.body and "654321" in row.body
