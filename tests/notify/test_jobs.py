"""Delivery to real servers on loopback: SMTP (aiosmtpd) and an HTTP SMS gateway.

Retries back off exponentially, permanent failures stop at once, a retry is the same
message (Message-ID, Idempotency-Key), and several workers send each message once.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from notify_support import SmsGatewaySink, SmtpSink, settings_env
from support import applicant, make_user
from tongban.db import transaction
from tongban.kit.clock import frozen, now
from tongban.notify import jobs, repository, service
from tongban.notify.models import Notification

PARAMS = {"case_no": "640425-20261203-000001", "title": "最低生活保障申请"}


def queue(url: str, n: int = 1, **contact: str) -> None:
    with transaction(url) as s:
        for i in range(n):
            service.notify(s, kind="case_accepted", params=PARAMS, dedupe_key=f"job:{i}", **contact)


def outbox(url: str, channel: str) -> list[Notification]:
    with transaction(url) as s:
        query = select(Notification).where(Notification.channel == channel)
        return list(s.scalars(query.order_by(Notification.id)))


def test_an_email_is_delivered_to_a_real_smtp_server(clean_db: str, smtp_sink: SmtpSink) -> None:
    with transaction(clean_db) as s:
        owner = make_user(s, "applicant", email="ma.xiaoyan@example.cn")
    with transaction(clean_db) as s:
        service.notify(
            s, kind="case_accepted", params=PARAMS, dedupe_key="c:1", user_id=owner.user_id
        )
    report = jobs.deliver_due(clean_db)
    assert report.sent == 1
    (mail,) = smtp_sink.wait_for(1)
    assert mail["To"] == "ma.xiaoyan@example.cn"
    assert str(mail["Subject"]) == "【通办】办件已受理"
    assert "最低生活保障申请" in SmtpSink.text(mail) and "我的办件" in SmtpSink.text(mail)
    (row,) = outbox(clean_db, "email")
    assert row.status == "sent" and row.attempts == 1 and row.provider_ref == mail["Message-ID"]
    assert jobs.deliver_due(clean_db).sent == 0  # nothing twice


def test_a_deferred_email_is_retried_later_as_the_same_message(
    clean_db: str, smtp_sink: SmtpSink
) -> None:
    smtp_sink.defer = 2  # 451 twice
    queue(clean_db, email="ma@example.cn")
    start = now()
    with frozen(start):
        assert jobs.deliver_due(clean_db).retried == 1
    (row,) = outbox(clean_db, "email")
    assert row.status == "pending" and row.last_error == "smtp_451"
    assert row.next_attempt_at == start + timedelta(seconds=30)
    with frozen(start + timedelta(seconds=10)):
        assert jobs.deliver_due(clean_db).retried == 0  # not due yet
    with frozen(start + timedelta(seconds=31)):
        assert jobs.deliver_due(clean_db).retried == 1
    (row,) = outbox(clean_db, "email")
    assert row.next_attempt_at == start + timedelta(seconds=31 + 60)  # doubled
    with frozen(start + timedelta(seconds=92)):
        assert jobs.deliver_due(clean_db).sent == 1
    (mail,) = smtp_sink.wait_for(1)
    (row,) = outbox(clean_db, "email")
    assert row.status == "sent" and row.attempts == 3
    assert mail["Message-ID"] == row.provider_ref


def test_a_refused_mailbox_fails_at_once(clean_db: str, smtp_sink: SmtpSink) -> None:
    smtp_sink.refuse.add("gone@example.cn")
    queue(clean_db, email="gone@example.cn")
    assert jobs.deliver_due(clean_db).failed == 1
    (row,) = outbox(clean_db, "email")
    assert (row.status, row.attempts, row.last_error) == ("failed", 1, "smtp_550")


def test_an_unreachable_server_is_retried_then_given_up(clean_db: str) -> None:
    with settings_env(smtp_host="127.0.0.1", smtp_port=9, notify_max_attempts=2):
        queue(clean_db, email="ma@example.cn")
        start = now()
        with frozen(start):
            assert jobs.deliver_due(clean_db).retried == 1
        with frozen(start + timedelta(hours=2)):
            assert jobs.deliver_due(clean_db).failed == 1
    (row,) = outbox(clean_db, "email")
    assert row.status == "failed" and row.attempts == 2
    assert row.last_error.startswith("smtp_")


def test_sms_goes_to_the_http_gateway_with_an_idempotency_key(
    clean_db: str, sms_gateway_sink: SmsGatewaySink
) -> None:
    queue(clean_db, phone="13912345678")
    assert jobs.deliver_due(clean_db).sent == 1
    (request,) = sms_gateway_sink.requests
    assert request["headers"]["Authorization"] == "Bearer test-gateway-token"
    assert request["body"]["to"] == "13912345678"
    assert request["body"]["text"].startswith("【通办】您申请的“最低生活保障申请”")
    assert request["key"] == request["body"]["idempotency_key"] and len(request["key"]) == 64
    (row,) = outbox(clean_db, "sms")
    assert row.status == "sent" and row.provider_ref == f"gw-{request['key'][:12]}"


def test_a_5xx_is_retried_with_backoff_and_the_same_key(
    clean_db: str, sms_gateway_sink: SmsGatewaySink
) -> None:
    sms_gateway_sink.script = [503, 502]
    queue(clean_db, phone="13912345678")
    start = now()
    with frozen(start):
        assert jobs.deliver_due(clean_db).retried == 1
    with frozen(start + timedelta(seconds=31)):
        assert jobs.deliver_due(clean_db).retried == 1
    (row,) = outbox(clean_db, "sms")
    assert row.last_error == "http_502" and row.attempts == 2
    assert row.next_attempt_at == start + timedelta(seconds=31 + 60)
    with frozen(start + timedelta(seconds=95)):
        assert jobs.deliver_due(clean_db).sent == 1
    keys = {r["key"] for r in sms_gateway_sink.requests}
    assert len(sms_gateway_sink.requests) == 3 and len(keys) == 1
    assert len(sms_gateway_sink.sent) == 1


def test_a_4xx_is_a_permanent_failure(clean_db: str, sms_gateway_sink: SmsGatewaySink) -> None:
    sms_gateway_sink.script = [400]
    queue(clean_db, phone="13912345678")
    assert jobs.deliver_due(clean_db).failed == 1
    (row,) = outbox(clean_db, "sms")
    assert (row.status, row.last_error) == ("failed", "http_400")
    assert len(sms_gateway_sink.requests) == 1


def test_a_gateway_timeout_is_retried(clean_db: str, sms_gateway_sink: SmsGatewaySink) -> None:
    with settings_env(sms_gateway_timeout_seconds=0.2):
        sms_gateway_sink.delay = 0.6
        queue(clean_db, phone="13912345678")
        assert jobs.deliver_due(clean_db).retried == 1
    (row,) = outbox(clean_db, "sms")
    assert row.last_error == "http_timeout"
    # The gateway did accept it: the retry carries the same key, so it is not sent twice.
    sms_gateway_sink.delay = 0
    with frozen(now() + timedelta(minutes=5)):
        assert jobs.deliver_due(clean_db).sent == 1
    assert len(sms_gateway_sink.requests) == 2 and len(sms_gateway_sink.sent) == 1


def test_a_code_that_expired_before_it_could_be_sent_is_not_sent(
    clean_db: str, sms_gateway_sink: SmsGatewaySink
) -> None:
    with transaction(clean_db) as s:
        service.notify(
            s,
            kind="verification_code",
            params={"code": "112233", "purpose": "signup", "minutes": 5},
            dedupe_key="code:9",
            phone="13912345678",
        )
    with frozen(now() + timedelta(minutes=6)):
        assert jobs.deliver_due(clean_db).expired == 1
    assert sms_gateway_sink.requests == []
    (row,) = outbox(clean_db, "sms")
    assert row.status == "expired"


def test_a_lapsed_claim_is_taken_over(clean_db: str, sms_gateway_sink: SmsGatewaySink) -> None:
    """A worker that claimed a row and died: the row is due again when its claim lapses."""
    queue(clean_db, phone="13912345678")
    start = now()
    with transaction(clean_db) as s:
        claimed = repository.claim_due(
            s, at=start, limit=10, token="dead-worker", lease_until=start + timedelta(minutes=5)
        )
        assert len(claimed) == 1
    assert jobs.deliver_due(clean_db).sent == 0  # still claimed
    with frozen(start + timedelta(minutes=6)):
        assert jobs.deliver_due(clean_db).sent == 1
    with transaction(clean_db) as s:
        late = repository.finish(s, row_id=claimed[0].id, token="dead-worker", values={})
    assert late is False  # the dead worker's late answer changes nothing
    (row,) = outbox(clean_db, "sms")
    assert row.status == "sent" and row.attempts == 2


def test_the_demo_gateway_writes_its_page(clean_db: str) -> None:
    with settings_env(sms_gateway="demo"):
        queue(clean_db, phone="13912345678")
        assert jobs.deliver_due(clean_db).sent == 1
    with transaction(clean_db) as s:
        (shown,) = service.demo_sms(s)
    assert shown.phone == "139****5678" and shown.text.startswith("【通办】")


def test_unconfigured_channels_are_skipped_with_a_reason(clean_db: str) -> None:
    with settings_env(sms_gateway="demo"):
        queue(clean_db, phone="13912345678")
    assert jobs.deliver_due(clean_db).skipped == 1  # the gateway was switched off since
    (row,) = outbox(clean_db, "sms")
    assert (row.status, row.last_error) == ("skipped", "sms_not_configured")


def test_the_background_delivery_of_the_demo_starts_and_stops(clean_db: str) -> None:
    with settings_env(sms_gateway="demo"):
        queue(clean_db, phone="13912345678")
        delivery = jobs.BackgroundDelivery(clean_db, interval=0.05).start()
        try:
            for _ in range(200):
                if outbox(clean_db, "sms")[0].status == "sent":
                    break
                threading.Event().wait(0.05)
        finally:
            delivery.stop()
    assert outbox(clean_db, "sms")[0].status == "sent"
    assert not delivery._thread.is_alive()


def test_two_workers_send_each_message_once(
    clean_db: str, smtp_sink: SmtpSink, sms_gateway_sink: SmsGatewaySink
) -> None:
    if not clean_db.startswith("postgresql"):
        pytest.skip("concurrent workers: PostgreSQL (SQLite runs one writer at a time anyway)")
    with transaction(clean_db) as s:
        people = [
            make_user(s, "applicant", phone=f"1391234{i:04d}", email=f"p{i}@example.cn")
            for i in range(30)
        ]
    with transaction(clean_db) as s:
        for person in people:
            service.notify(
                s,
                kind="case_accepted",
                params=PARAMS,
                dedupe_key=f"many:{person.user_id}",
                user_id=person.user_id,
                channels=("email", "sms"),
            )
    with settings_env(notify_batch_size=3):
        reports = []
        threads = [
            threading.Thread(target=lambda: reports.append(jobs.deliver_due(clean_db)))
            for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert sum(r.sent for r in reports) == 60 and len(reports) == 2
    mails = smtp_sink.wait_for(30)
    assert len(mails) == 30 and len({m["Message-ID"] for m in mails}) == 30
    assert len(sms_gateway_sink.requests) == 30 and len(sms_gateway_sink.sent) == 30


def test_site_messages_need_no_delivery(session: Session) -> None:
    owner = applicant(session, sequence=33)
    service.notify(
        session, kind="case_accepted", params=PARAMS, dedupe_key="s:1", user_id=owner.user_id
    )
    session.commit()
    assert repository.oldest_due(session, now()) is None
