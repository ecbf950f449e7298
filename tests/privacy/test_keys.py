"""Key rotation on the real databases: batches, concurrent writers, resume, status, retire."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from support import act, applicant, clerk, item_named, make_user, person_id, submit
from tongban.access.models import User
from tongban.cases.storage import LocalStorage, digest, get_storage
from tongban.cli import app
from tongban.config import get_settings
from tongban.db import transaction
from tongban.errors import DomainError
from tongban.privacy import crypto, keys
from tongban.privacy.crypto import Keyring

runner = CliRunner()
LEGACY_PHONE = "13800001111"
LEGACY_FILE = b"%PDF-1.4 stored before encryption\n%%EOF\n"


@pytest.fixture
def key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """This test's own key file and file store: rotating them leaves other tests alone."""
    path = tmp_path / "keys.json"
    monkeypatch.setenv("TONGBAN_KEY_FILE", str(path))
    monkeypatch.setenv("TONGBAN_STORAGE_DIR", str(tmp_path / "files"))
    monkeypatch.setattr(crypto, "RELOAD_SECONDS", 0.0)
    get_settings.cache_clear()
    crypto.reset_keyring()
    yield path
    get_settings.cache_clear()
    crypto.reset_keyring()


@pytest.fixture
def populated(key_file: Path, demo_db: str) -> str:
    """Users and cases with identity numbers, phones, notes and files; one legacy value."""
    with transaction(demo_db) as s:
        item = item_named(s, "个体工商户")
        window = clerk(s)
        for sequence in range(1, 4):
            person = applicant(s, 20 + sequence)  # applies for themselves
            case = submit(s, person, item_code=item.code)
        act(s, window, case, "request_supplement", note="请补交身份证复印件", missing=["身份证"])
        legacy = make_user(s, "applicant", id_number=person_id(30), phone=LEGACY_PHONE)
    with transaction(demo_db) as s:  # a phone stored before encryption was switched on
        s.execute(
            sa.text("UPDATE users SET phone = :p WHERE id = :id"),
            {"p": LEGACY_PHONE, "id": legacy.user_id},
        )
    storage = get_storage()
    assert isinstance(storage, LocalStorage)
    storage._write(digest(LEGACY_FILE), LEGACY_FILE)
    return demo_db


def _stored(url: str) -> dict[tuple[str, str, Any], str]:
    """Every encrypted column's raw stored value, by (table, column, key)."""
    values = {}
    with transaction(url) as s:
        for column in keys.encrypted_columns():
            query = sa.text(
                f'SELECT "{column.key}", "{column.column}" FROM "{column.table}" '
                f'WHERE "{column.column}" IS NOT NULL'
            )
            for key, value in s.execute(query):
                values[(column.table, column.column, key)] = value
    return values


def _plain(stored: dict[tuple[str, str, Any], str], key_file: Path) -> dict[Any, str]:
    ring = Keyring.load(key_file)  # what a process started now would read
    return {k: ring.decrypt(v, context=f"{k[0]}.{k[1]}") for k, v in stored.items()}


def _key_ids(stored: dict[tuple[str, str, Any], str]) -> set[str | None]:
    return {v.split(":")[1] if v.startswith(crypto.PREFIX) else None for v in stored.values()}


def _audit(url: str) -> list[tuple[str, str]]:
    with transaction(url) as s:
        rows = s.execute(sa.text("SELECT action, subject_ref FROM audit_entries ORDER BY seq"))
        return [(r[0], r[1]) for r in rows if r[0].startswith("keys.")]


def test_every_encrypted_column_is_found_in_the_models() -> None:
    found = {(c.table, c.column): c for c in keys.encrypted_columns()}
    expected = {
        ("cases", "applicant_id_number"),
        ("cases", "applicant_phone"),
        ("cases", "form_data"),
        ("cases", "decision_note"),
        ("case_tasks", "note"),
        ("case_events", "note"),
        ("case_materials", "note"),
        ("uploads", "filename"),
        ("users", "id_number"),
        ("users", "phone"),
    }
    assert expected <= set(found)
    assert all(c.context == f"{c.table}.{c.column}" and c.key == "id" for c in found.values())
    assert found[("cases", "form_data")].is_json and not found[("users", "phone")].is_json


def test_rotation_reseals_everything_while_the_app_keeps_writing(
    populated: str, key_file: Path
) -> None:
    url = populated
    before = _stored(url)
    expected = _plain(before, key_file)
    assert _key_ids(before) == {"k1", None}  # None: the legacy plain phone
    # an app server that has not looked at the key file again yet
    stale_server = Keyring.from_json(key_file.read_text())
    columns = keys.encrypted_columns()
    stale_target = next(c for c in columns if (c.table, c.column) == ("cases", "applicant_phone"))
    with transaction(url) as s:
        target_user = s.scalars(
            sa.select(User.id).where(User.phone.is_not(None)).order_by(User.id)
        ).first()
        first_case = s.execute(sa.text("SELECT min(id) FROM cases")).scalar_one()
    writes: list[str] = []

    def app_writes(batch: keys.BatchDone) -> None:
        if not writes:
            with transaction(url) as s:  # the live app changes a value between two batches
                s.get(User, target_user).phone = "13700000000"  # type: ignore[union-attr]
            writes.append("between")
        if batch.column == columns[-1] and len(writes) == 1:
            token = stale_server.encrypt("13600000000", context=stale_target.context)
            with transaction(url) as s:  # ... and a stale server writes with the old key
                s.execute(
                    sa.text("UPDATE cases SET applicant_phone = :v WHERE id = :id"),
                    {"v": token, "id": first_case},
                )
            writes.append("stale")

    report = keys.rotate(url, batch_size=2, settle_seconds=0, progress=app_writes)
    assert (report.key_id, report.continued) == ("k2", False)
    assert report.batches > report.values // 2 - 1 and report.files >= 2  # batches of two
    assert report.remaining == 1 and not report.done  # the stale write, found by the count
    with pytest.raises(DomainError) as refused:
        keys.retire(url, "k1")
    assert refused.value.code == "key_in_use"

    again = keys.rotate(url, batch_size=2, settle_seconds=0)
    assert (again.key_id, again.continued, again.values, again.remaining) == ("k2", True, 1, 0)
    after = _stored(url)
    assert _key_ids(after) == {"k2"}
    plain = _plain(after, key_file)
    expected[("users", "phone", target_user)] = "13700000000"
    expected[("cases", "applicant_phone", first_case)] = "13600000000"
    assert plain == expected
    storage = get_storage()
    assert {storage.key_id_of(h) for h in storage.hashes()} == {"k2"}
    assert storage.get(digest(LEGACY_FILE)) == LEGACY_FILE

    with pytest.raises(DomainError) as active:
        keys.retire(url, "k2")
    assert active.value.code == "key_active"
    status = keys.retire(url, "k1")
    assert set(status.suites) == {"k2"} and status.plain_values == status.plain_files == 0
    assert "k1" not in Keyring.load(key_file).keys
    assert _plain(_stored(url), key_file) == plain  # everything still opens without k1
    assert _audit(url) == [("keys.rotate", "k2"), ("keys.retire", "k1")]


def test_compare_and_set_never_overwrites_a_concurrent_write(
    populated: str, key_file: Path
) -> None:
    url = populated
    ring = Keyring.load(key_file)
    ring.add_key()
    ring.save(key_file)
    crypto.reset_keyring()
    column = next(c for c in keys.encrypted_columns() if (c.table, c.column) == ("users", "phone"))
    with transaction(url) as s:
        rows = keys.pending(s, column, "k2", after=None, limit=100)
    assert rows
    with transaction(url) as s:  # the app saves a new phone after the rotation read the row
        s.get(User, rows[0][0]).phone = "13500000000"  # type: ignore[union-attr]
    with transaction(url) as s:
        done, conflicts = keys.reseal(s, column, rows)
    assert (done, conflicts) == (len(rows) - 1, 1)
    with transaction(url) as s:
        assert s.get(User, rows[0][0]).phone == "13500000000"  # type: ignore[union-attr]


def test_an_interrupted_rotation_continues_where_it_stopped(populated: str, key_file: Path) -> None:
    url = populated
    total = len(_stored(url))
    moved: list[int] = []

    def stop_after_two(batch: keys.BatchDone) -> None:
        moved.append(batch.resealed)
        if len(moved) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        keys.rotate(url, batch_size=3, settle_seconds=0, progress=stop_after_two)
    assert keys.status(url).rotating == "k2"
    assert 0 < keys.status(url).values["k2"] < total
    resumed = keys.rotate(url, batch_size=3, settle_seconds=0)
    assert (resumed.key_id, resumed.continued, resumed.done) == ("k2", True, True)
    assert resumed.values == total - sum(moved)  # committed batches are not done twice
    assert keys.status(url).rotating is None
    assert _audit(url) == [("keys.rotate", "k2")]
    nothing = keys.rotate(url, settle_seconds=0)  # a new rotation: a new key, all moved again
    assert (nothing.key_id, nothing.values) == ("k3", total)


def test_rotation_to_sm4_keeps_blind_indexes(populated: str, key_file: Path) -> None:
    url = populated
    ref = crypto.person_ref(person_id(21))
    report = keys.rotate(url, suite="sm4-gcm", settle_seconds=0)
    assert report.done and report.suite == "sm4-gcm"
    assert Keyring.load(key_file).key_suites == {"k1": "aes-gcm", "k2": "sm4-gcm"}
    assert crypto.person_ref(person_id(21)) == ref
    with transaction(url) as s:
        found = s.execute(
            sa.text("SELECT count(*) FROM cases WHERE applicant_id_index = :r"), {"r": ref}
        ).scalar_one()
    assert found == 1
    keys.retire(url, "k1")
    assert set(_plain(_stored(url), key_file).values()) >= {person_id(21), LEGACY_PHONE}


def test_status_counts_values_and_files_per_key(populated: str, key_file: Path) -> None:
    status = keys.status(populated)
    stored = _stored(populated)
    assert status.active == "k1" and status.rotating is None
    assert status.values == {"k1": len(stored) - 1} and status.plain_values == 1
    assert status.files["k1"] >= 1 and status.plain_files == 1
    assert status.unknown_values == 0
    with pytest.raises(DomainError) as unknown:
        keys.retire(populated, "k9")
    assert unknown.value.code == "unknown_key"


@pytest.fixture
def cli_db(populated: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("TONGBAN_DATABASE_URL", populated)
    get_settings.cache_clear()
    yield populated
    get_settings.cache_clear()


def test_keys_commands(cli_db: str, key_file: Path) -> None:
    status = runner.invoke(app, ["keys", "status"])
    assert status.exit_code == 0, status.output
    assert "k1" in status.output and "active" in status.output and "plain" in status.output

    early = runner.invoke(app, ["keys", "retire", "k1"])
    assert early.exit_code == 2
    assert "错误 key_active" in early.output and "error key_active" in early.output

    rotated = runner.invoke(app, ["keys", "rotate", "--batch-size", "4"])
    assert rotated.exit_code == 0, rotated.output
    assert "key k2 (aes-gcm)" in rotated.output and "files re-encrypted" in rotated.output

    after = runner.invoke(app, ["keys", "status"])
    line = next(x for x in after.output.splitlines() if x.startswith("k1"))
    assert line.split()[2:4] == ["0", "0"]

    retired = runner.invoke(app, ["keys", "retire", "k1"])
    assert retired.exit_code == 0, retired.output
    assert "k1" not in Keyring.load(key_file).keys

    bad = runner.invoke(app, ["keys", "rotate", "--suite", "des"])
    assert bad.exit_code == 2 and "unknown suite" in bad.output
