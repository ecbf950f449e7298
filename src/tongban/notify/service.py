"""Notification use cases: queue a message (in the caller's transaction), read and mark
我的消息, and the operators' view of failures. Never commits."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import timedelta

from sqlalchemy.orm import Session

from tongban.access import service as access_service
from tongban.access.rules import Actor, Role
from tongban.audit import service as audit_service
from tongban.audit.service import Access
from tongban.config import get_settings
from tongban.errors import Forbidden, NotFound
from tongban.jobs import queue as job_queue
from tongban.kit.clock import now
from tongban.notify import channels as notify_channels
from tongban.notify import repository, rules, texts
from tongban.notify.models import Notification
from tongban.notify.schemas import (
    DemoSmsRead,
    FailedPage,
    FailedRead,
    MessagePage,
    MessageRead,
    NotifyStats,
)
from tongban.privacy.crypto import blind_index

DEFAULT_CODE_MINUTES = 10


def notify(
    session: Session,
    *,
    kind: str,
    params: Mapping[str, str | int],
    dedupe_key: str,
    user_id: int | None = None,
    phone: str | None = None,
    email: str | None = None,
    channels: Collection[str] = ("site", "email", "sms"),
) -> int:
    """Queue one message per channel that has an address; returns rows queued (0 if already queued).

    In the caller's transaction: the message exists exactly when the change that
    caused it commits. With ``user_id``, the account's phone and e-mail are used unless
    ``phone``/``email`` are given, and a site message (我的消息) is written; without
    it there is none. E-mail needs TONGBAN_SMTP_HOST, SMS a configured gateway;
    otherwise that channel is left out. ``dedupe_key`` names the message (the event
    and the person); each row's key adds the channel and the recipient, so queuing
    the same message twice creates nothing the second time.

    Kind ``verification_code`` takes params ``code``, ``purpose`` (signup, reset,
    verify, login) and ``minutes`` of validity (default 10); it is never a site message
    and is not sent once expired.
    """
    spec = texts.templates().kind(kind)
    contact = access_service.notification_contact(session, user_id) if user_id else None
    if contact is not None:
        phone = phone or contact.phone
        email = email or contact.email
    values = texts.clean_params(params)
    at = now()
    expires_at = None
    if spec.expires:
        values.setdefault("minutes", DEFAULT_CODE_MINUTES)
        expires_at = at + timedelta(minutes=int(values["minutes"]))
    rendered = texts.render(kind, values, account=contact is not None)
    queued = 0
    waiting = False
    for channel in dict.fromkeys(channels):
        if channel not in spec.channels:
            continue
        address = _address(channel, contact is not None, phone, email)
        if address is None:
            continue
        recipient = (
            f"u{contact.user_id}"
            if contact is not None
            else f"a{blind_index(address, domain='notify')[:16]}"
        )
        subject, body = _content(channel, rendered)
        row = {
            "dedupe_key": rules.row_key(dedupe_key, channel, recipient),
            "kind": kind,
            "channel": channel,
            "recipient_user_id": contact.user_id if contact is not None else None,
            "address": address,
            "params": values,
            "subject": subject,
            "body": body,
            # A site message is delivered by being written; the others wait for a worker.
            "status": "sent" if channel == "site" else "pending",
            "attempts": 0,
            "next_attempt_at": None if channel == "site" else at,
            "expires_at": expires_at,
            "last_error": "",
            "provider_ref": "",
            "created_at": at,
            "sent_at": at if channel == "site" else None,
        }
        created = repository.add_unless_queued(session, row)
        queued += created
        waiting = waiting or (created and channel != "site")
    if waiting:  # e-mail or SMS for a worker: on PostgreSQL one is woken at the commit
        job_queue.defer(session, job_queue.DELIVERY_TASK)
    return queued


def _address(channel: str, has_account: bool, phone: str | None, email: str | None) -> str | None:
    settings = get_settings()
    if channel == "site":
        return "" if has_account else None
    if channel == "email":
        address = (email or "").strip()
        ok = bool(settings.smtp_host) and rules.valid_email(address)
        return address if ok else None
    if channel == "sms" and phone and notify_channels.sms_enabled(settings):
        return rules.normalize_phone(phone)
    return None


def _content(channel: str, rendered: texts.Rendered) -> tuple[str, str]:
    if channel == "email":
        return f"【通办】{rendered.title}", texts.email_body(rendered)
    if channel == "sms":
        return "", texts.sms_text(rendered)
    return rendered.title, rendered.text


# --- 我的消息 ----------------------------------------------------------------------------


def _read(row: Notification, gettext: texts.Gettext | None) -> MessageRead:
    try:
        rendered = texts.render(row.kind, row.params, account=True, gettext=gettext)
        title, text = rendered.title, rendered.text
    except (ValueError, KeyError, TypeError):  # a kind since retired: the stored Chinese text
        title, text = row.subject, row.body
    return MessageRead(
        id=row.id,
        kind=row.kind,
        title=title,
        text=text,
        params=row.params,
        created_at=row.created_at,
        read_at=row.read_at,
        unread=row.read_at is None,
    )


def my_messages(
    session: Session,
    *,
    actor: Actor,
    page: int = 1,
    size: int = 20,
    unread_only: bool = False,
    gettext: texts.Gettext | None = None,
) -> MessagePage:
    """The signed-in user's in-site messages, newest first (any role)."""
    rows, total = repository.inbox(
        session,
        actor.user_id,
        offset=(page - 1) * size,
        limit=size,
        unread_only=unread_only,
    )
    return MessagePage(
        items=[_read(row, gettext) for row in rows],
        total=total,
        unread=repository.unread_count(session, actor.user_id),
        page=page,
        size=size,
    )


def mark_read(
    session: Session, *, actor: Actor, message_id: int, gettext: texts.Gettext | None = None
) -> MessageRead:
    row = repository.inbox_message(session, actor.user_id, message_id)
    if row is None:
        raise NotFound(
            "message_not_found",
            f"消息不存在：{message_id}",
            f"Message not found: {message_id}",
        )
    if row.read_at is None:
        repository.mark_read(session, actor.user_id, [row.id], now())
        session.refresh(row)
    return _read(row, gettext)


def mark_all_read(session: Session, *, actor: Actor) -> int:
    return repository.mark_read(session, actor.user_id, None, now())


def unread_count(session: Session, *, actor: Actor) -> int:
    return repository.unread_count(session, actor.user_id)


# --- operations ------------------------------------------------------------------------


def _require_admin(actor: Actor) -> None:
    if actor.role != Role.ADMIN:
        raise Forbidden(
            "forbidden",
            "只有中心管理员可以查看消息投递情况。",
            "Only the center admin may see message delivery.",
            details={"role": actor.role.value},
        )


def failed_messages(session: Session, *, actor: Actor, page: int, size: int) -> FailedPage:
    """Messages given up on, newest first: kind, channel, masked address, attempts, error."""
    _require_admin(actor)
    rows, total = repository.failed(session, offset=(page - 1) * size, limit=size)
    if rows:  # masked contacts are still personal data: the read is on the record
        audit_service.record(
            session,
            actor=actor,
            access=Access(
                action="read",
                subject_kind="notification",
                subject_ref="failed",
                fields=("notify.address",),
                purpose_code="administration",
            ),
        )
    items = [
        FailedRead(
            id=row.id,
            kind=row.kind,
            channel=row.channel,
            recipient_user_id=row.recipient_user_id,
            address=rules.mask_address(row.channel, row.address),
            attempts=row.attempts,
            last_error=row.last_error,
            created_at=row.created_at,
        )
        for row in rows
    ]
    return FailedPage(items=items, total=total, page=page, size=size)


def stats(session: Session, *, actor: Actor) -> NotifyStats:
    _require_admin(actor)
    channels: dict[str, dict[str, int]] = {}
    for channel, status, count in repository.status_counts(session):
        channels.setdefault(channel, {})[status] = count
    totals: dict[str, int] = {}
    for counts in channels.values():
        for status, count in counts.items():
            totals[status] = totals.get(status, 0) + count
    return NotifyStats(
        channels=channels,
        failed=totals.get("failed", 0),
        pending=totals.get("pending", 0),
        oldest_due_at=repository.oldest_due(session, now()),
    )


def demo_sms(session: Session, *, limit: int = 50) -> list[DemoSmsRead]:
    """What the demo gateway "sent", newest first (the /demo/sms page)."""
    return [
        DemoSmsRead(
            phone=rules.mask_address("sms", row.phone), text=row.text, created_at=row.created_at
        )
        for row in repository.recent_demo_sms(session, limit=limit)
    ]
