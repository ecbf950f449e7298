"""The `tongban` command against the test databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import tongban.demo
from tongban.cli import app
from tongban.config import get_settings

runner = CliRunner()


@pytest.fixture
def cli_db(demo_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("TONGBAN_DATABASE_URL", demo_db)
    get_settings.cache_clear()
    yield demo_db
    get_settings.cache_clear()


def test_workdays_add_prints_the_date(cli_db: str) -> None:
    result = runner.invoke(app, ["workdays", "add", "2026-09-30", "1"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "2026-10-08"
    provisional = runner.invoke(app, ["workdays", "add", "2026-12-31", "1"])
    assert provisional.exit_code == 0
    assert provisional.output.startswith("2027-01-04") and "provisional" in provisional.output


def test_workdays_load_then_add(cli_db: str) -> None:
    calendar = Path(tongban.demo.__file__).parent / "calendar-2027.toml"
    loaded = runner.invoke(app, ["workdays", "load", str(calendar)])
    assert loaded.exit_code == 0, loaded.output
    assert '"year": 2027' in loaded.output
    after = runner.invoke(app, ["workdays", "add", "2026-12-31", "1"])
    assert "provisional" not in after.output


def test_bad_input_exits_2_with_a_bilingual_message(cli_db: str, tmp_path: Path) -> None:
    bad_date = runner.invoke(app, ["workdays", "add", "2026-13-01", "1"])
    assert bad_date.exit_code == 2
    broken = tmp_path / "broken.toml"
    broken.write_text("year = 2027\n[[holidays]]\nname = 1\n", encoding="utf-8")
    result = runner.invoke(app, ["workdays", "load", str(broken)])
    assert result.exit_code == 2
    assert "错误" in result.output and "error" in result.output


def test_users_create(cli_db: str) -> None:
    ok = runner.invoke(
        app,
        [
            "users",
            "create",
            "--username",
            "window2",
            "--password",
            "Window2026",
            "--role",
            "clerk",
            "--region",
            "640425",
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert "created user window2 (clerk" in ok.output
    again = runner.invoke(
        app,
        [
            "users",
            "create",
            "--username",
            "window2",
            "--password",
            "Window2026",
            "--role",
            "clerk",
        ],
    )
    assert again.exit_code == 2 and "username_taken" in again.output
    reviewer = runner.invoke(
        app,
        [
            "users",
            "create",
            "--username",
            "rev2",
            "--password",
            "Review2026",
            "--role",
            "reviewer",
            "--department",
            "91640425MA7XK2QJ3A",
        ],
    )
    assert reviewer.exit_code == 2 and "department_not_found" in reviewer.output


def test_demo_load_is_idempotent_and_prints_the_logins(cli_db: str) -> None:
    first = runner.invoke(app, ["demo", "load", "--history-cases", "20"])
    assert first.exit_code == 0, first.output
    assert "sample cases added: 7" in first.output
    assert "clerk" in first.output and "Demo@2026" in first.output
    second = runner.invoke(app, ["demo", "load", "--history-cases", "20"])
    assert second.exit_code == 0
    assert "sample cases added: 0" in second.output
