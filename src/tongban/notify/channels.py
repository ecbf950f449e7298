"""The channels that leave the platform: e-mail over SMTP and SMS through a gateway.

Each send returns an ``Outcome`` instead of raising: sent, retry (the other side may
succeed later: a timeout, a 4xx SMTP reply, a 5xx gateway answer) or failed (it never
will: a refused mailbox, a 4xx gateway answer). Nothing here touches the outbox.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from typing import Protocol

import httpx

from tongban.config import Settings
from tongban.db import transaction
from tongban.kit.clock import now
from tongban.notify import repository
from tongban.notify.rules import Outcome, http_outcome, smtp_outcome

# --- e-mail ----------------------------------------------------------------------------


def email_message(
    settings: Settings, *, to: str, subject: str, body: str, message_id: str
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    # Stable across retries: a mail client shows a resent message once.
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to it
    message.set_content(body)
    return message


def send_email(settings: Settings, message: EmailMessage) -> Outcome:
    """One SMTP session per message: connect, (STARTTLS), (AUTH), send, quit."""
    try:
        with smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds
        ) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
            refused = smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        return smtp_outcome(min(codes) if codes else 550)
    except smtplib.SMTPResponseException as error:
        return smtp_outcome(error.smtp_code)
    except (smtplib.SMTPException, OSError) as error:  # connection refused, timeout, TLS
        return Outcome("retry", f"smtp_{type(error).__name__}"[:200])
    if refused:  # one recipient per message: a partial refusal cannot happen
        code = min(code for code, _ in refused.values())
        return smtp_outcome(code)
    return Outcome("sent", ref=str(message["Message-ID"]))


# --- SMS -------------------------------------------------------------------------------


class SmsGateway(Protocol):
    def send(self, *, to: str, text: str, idempotency_key: str) -> Outcome: ...


class HttpSmsGateway:
    """POST {"to", "text", "idempotency_key"} with a bearer token (docs/notifications.md).

    The same key goes in the ``Idempotency-Key`` header: a retry after a lost answer
    asks a well-behaved gateway for the same message, which it sends once.
    """

    def __init__(self, url: str, token: str, timeout: float) -> None:
        self.url, self.token, self.timeout = url, token, timeout

    def send(self, *, to: str, text: str, idempotency_key: str) -> Outcome:
        headers = {"Idempotency-Key": idempotency_key}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        body = {"to": to, "text": text, "idempotency_key": idempotency_key}
        try:
            response = httpx.post(self.url, json=body, headers=headers, timeout=self.timeout)
        except httpx.TimeoutException:
            return Outcome("retry", "http_timeout")
        except httpx.HTTPError as error:
            return Outcome("retry", f"http_{type(error).__name__}"[:200])
        return http_outcome(response.status_code, _gateway_ref(response))


def _gateway_ref(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return ""
    return str(data.get("id", "")) if isinstance(data, dict) else ""


class DemoSmsGateway:
    """The demo's gateway: stores the SMS for the /demo/sms page instead of sending it."""

    def __init__(self, database_url: str | None) -> None:
        self.database_url = database_url

    def send(self, *, to: str, text: str, idempotency_key: str) -> Outcome:
        with transaction(self.database_url) as session:
            repository.add_demo_sms(session, key=idempotency_key, phone=to, text=text, at=now())
        return Outcome("sent", ref=f"demo:{idempotency_key[:16]}")


def sms_gateway(settings: Settings, database_url: str | None) -> SmsGateway | None:
    """The configured gateway, or None ("none", or "http" without a URL)."""
    if settings.sms_gateway == "demo":
        return DemoSmsGateway(database_url)
    if settings.sms_gateway == "http" and settings.sms_gateway_url:
        return HttpSmsGateway(
            settings.sms_gateway_url,
            settings.sms_gateway_token,
            settings.sms_gateway_timeout_seconds,
        )
    return None


def sms_enabled(settings: Settings) -> bool:
    return settings.sms_gateway == "demo" or (
        settings.sms_gateway == "http" and bool(settings.sms_gateway_url)
    )
