"""The loopback SMTP server and SMS gateway fixtures for the notification tests."""

from notify_support import sms_gateway_sink, smtp_sink  # noqa: F401
