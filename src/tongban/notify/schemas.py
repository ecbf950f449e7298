from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class MessageRead(BaseModel):
    """One in-site message (站内信): the kind and parameters, and the text they make."""

    id: int
    kind: str
    title: str
    text: str
    params: dict[str, str | int]
    created_at: datetime
    read_at: datetime | None
    unread: bool


class MessagePage(BaseModel):
    items: list[MessageRead]
    total: int
    unread: int
    page: int
    size: int


class FailedRead(BaseModel):
    """A message that could not be delivered: no text, the address masked."""

    id: int
    kind: str
    channel: str
    recipient_user_id: int | None
    address: str
    attempts: int
    last_error: str
    created_at: datetime


class FailedPage(BaseModel):
    items: list[FailedRead]
    total: int
    page: int
    size: int


class NotifyStats(BaseModel):
    """Rows per channel and status (pending, sending, sent, failed, skipped, expired)."""

    channels: dict[str, dict[str, int]]
    failed: int
    pending: int
    oldest_due_at: datetime | None


class DemoSmsRead(BaseModel):
    phone: str  # masked
    text: str
    created_at: datetime


class DeliveryReport(BaseModel):
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    expired: int = 0

    def add(self, other: DeliveryReport) -> None:
        for name in type(self).model_fields:
            setattr(self, name, getattr(self, name) + getattr(other, name))
