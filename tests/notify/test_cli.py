"""`tongban worker --once` delivers the outbox after the sweeps."""

from __future__ import annotations

from typer.testing import CliRunner

from notify_support import SmtpSink, settings_env
from support import make_user
from tongban.cli import app
from tongban.db import transaction
from tongban.notify import service

runner = CliRunner()


def test_the_worker_delivers_queued_mail(demo_db: str, smtp_sink: SmtpSink) -> None:
    with transaction(demo_db) as s:
        person = make_user(s, "applicant", email="ma.xiaoyan@example.cn")
        service.notify(
            s,
            kind="case_accepted",
            params={"case_no": "640425-20261203-000001", "title": "最低生活保障申请"},
            dedupe_key="cli:1",
            user_id=person.user_id,
        )
    with settings_env(database_url=demo_db):
        first = runner.invoke(app, ["worker", "--once"])
        again = runner.invoke(app, ["worker", "--once"])
    assert first.exit_code == 0, first.output
    assert "warnings 0 · escalations 0" in first.output  # the sweeps ran too
    assert "notifications sent 1 · retried 0 · failed 0" in first.output
    assert "notifications sent 0" in again.output
    (mail,) = smtp_sink.wait_for(1)
    assert mail["To"] == "ma.xiaoyan@example.cn"
