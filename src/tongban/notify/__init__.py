"""Notifications (消息通知): an outbox written in the transaction of the event that causes
it, delivered by the worker to in-site messages (站内信), e-mail (SMTP) and SMS (a gateway).

See docs/notifications.md.
"""
