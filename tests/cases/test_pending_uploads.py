"""Files chosen on a form that came back with an error wait a week for the form, then go."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from notify_support import settings_env
from support import applicant, clerk, item_named, submit
from tongban.cases import jobs
from tongban.cases import service as cases_service
from tongban.cases.models import Case, Upload
from tongban.cases.storage import LocalStorage, digest, get_storage
from tongban.cli import app
from tongban.config import get_settings
from tongban.kit.clock import frozen

runner = CliRunner()
PDF = b"%PDF-1.4\n%% pending upload test %s\n%%EOF\n"


def _pdf(tag: str) -> bytes:
    return PDF.replace(b"%s", tag.encode())


def _path(sha256: str) -> Path:
    return get_settings().storage_dir / sha256[:2] / sha256[2:4] / sha256


def test_a_week_old_pending_upload_and_its_file_are_removed(
    demo_session: Session, demo_db: str
) -> None:
    s = demo_session
    person = applicant(s)
    old = datetime.now(UTC) - timedelta(days=8)
    with frozen(old):
        stale = cases_service.save_upload(s, actor=person, filename="旧.pdf", content=_pdf("a"))
    fresh = cases_service.save_upload(s, actor=person, filename="新.pdf", content=_pdf("b"))
    s.commit()
    os.utime(_path(stale.sha256), (old.timestamp(), old.timestamp()))

    with settings_env(database_url=demo_db):  # the worker's round includes the sweep
        swept = runner.invoke(app, ["worker", "--once"])
    assert swept.exit_code == 0, swept.output
    assert "stale pending uploads removed 1" in swept.output
    s.expire_all()
    tokens = set(s.scalars(select(Upload.token)))
    s.rollback()  # end the read: SQLite lets one writer in at a time
    assert stale.upload_id not in tokens and fresh.upload_id in tokens
    assert not _path(stale.sha256).exists() and _path(fresh.sha256).exists()
    assert jobs.sweep_stale_uploads(demo_db) == 0


def test_a_file_another_upload_still_uses_stays(demo_session: Session, demo_db: str) -> None:
    s = demo_session
    window = clerk(s)
    item = item_named(s, "最低生活保障申请")
    content = _pdf("shared")
    old = datetime.now(UTC) - timedelta(days=8)
    with frozen(old):
        stale = cases_service.save_upload(s, actor=window, filename="一.pdf", content=content)
    # The same scan attached to a case: its row keeps the file alive.
    case = submit(s, window, item_code=item.code)
    again = cases_service.save_upload(s, actor=window, filename="二.pdf", content=content)
    attached = s.scalars(select(Upload).where(Upload.token == again.upload_id)).one()
    attached.case_id = s.scalar(select(Case.id).where(Case.case_no == case.case_no))
    s.commit()
    assert jobs.sweep_stale_uploads(demo_db) >= 1
    assert _path(stale.sha256).exists()
    assert get_storage().get(stale.sha256) == content


def test_discarding_keeps_a_file_touched_by_a_concurrent_upload(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path)
    content = _pdf("race")
    sha256 = store.put(content)
    path = tmp_path / sha256[:2] / sha256[2:4] / sha256
    long_ago = time.time() - 10 * 86400
    os.utime(path, (long_ago, long_ago))
    cutoff = datetime.now(UTC) - timedelta(days=7)
    # Another upload of the same content renews the file before the sweep gets to it.
    assert store.put(content) == sha256
    assert store.discard(sha256, still_needed=lambda: False, untouched_since=cutoff) is False
    assert store.get(sha256) == content
    # Untouched for the whole grace period and wanted by nobody: removed, nothing left aside.
    os.utime(path, (long_ago, long_ago))
    assert store.discard(sha256, still_needed=lambda: False, untouched_since=cutoff) is True
    assert not path.exists() and not list(path.parent.iterdir())
    # A row that appeared meanwhile wins over the age.
    sha256 = store.put(content)
    os.utime(path, (long_ago, long_ago))
    assert store.discard(sha256, still_needed=lambda: True, untouched_since=cutoff) is False
    assert store.get(sha256) == content
    assert digest(content) == sha256


def test_a_file_gone_before_it_is_put_again_is_written_afresh(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path)
    content = _pdf("gone")
    sha256 = store.put(content)
    (tmp_path / sha256[:2] / sha256[2:4] / sha256).unlink()
    assert store.put(content) == sha256
    assert store.get(sha256) == content
