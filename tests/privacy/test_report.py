"""`tongban privacy report` on the demo county, SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from tongban.catalog.models import ServiceItem
from tongban.cli import app
from tongban.config import get_settings
from tongban.db import transaction
from tongban.demo.loader import read
from tongban.privacy.classification import display_width
from tongban.privacy.policy import AUDIENCES, load_policy

runner = CliRunner()


@pytest.fixture
def cli_db(demo_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("TONGBAN_DATABASE_URL", demo_db)
    get_settings.cache_clear()
    yield demo_db
    get_settings.cache_clear()


def report(*args: str) -> Any:
    result = runner.invoke(app, ["privacy", "report", *args])
    assert result.exit_code == 0, result.output
    return result


def demo_fields() -> list[tuple[dict[str, Any], str, dict[str, Any]]]:
    return [
        (item, name, spec)
        for item in read("items")
        for name, spec in item["form_schema"]["properties"].items()
    ]


def by_key(body: dict[str, Any]) -> dict[tuple[str | None, str], dict[str, Any]]:
    return {(f["item_code"], f["key"]): f for f in body["fields"]}


def test_json_lists_every_platform_and_form_field(demo_db: str) -> None:
    body = json.loads(report("--format", "json", "--database-url", demo_db).stdout)
    fields = by_key(body)
    policy = load_policy()
    assert len(fields) == len(body["fields"])  # no field listed twice
    for name, spec in policy.fields.items():
        row = fields[(None, name)]
        assert (row["level"], row["personal"], row["stored"]) == (
            spec.level,
            spec.personal,
            spec.stored,
        )
    for item, name, spec in demo_fields():
        row = fields[(item["code"], name)]
        declared = spec["x-privacy"]
        assert row["item_name"] == item["name"] and row["declared"]
        for key in ("category", "level", "personal", "mask", "purpose"):
            assert row[key] == declared[key], (item["name"], name, key)
        assert (row["stored"], row["encrypted"]) == ("cases.form_data", True)
        rule = policy.form_fields[declared["personal"]]
        assert row["roles"]["unmask"] == rule.unmask
    assert body["summary"] == {
        "fields": len(policy.fields) + len(demo_fields()),
        "platform_fields": len(policy.fields),
        "form_fields": len(demo_fields()),
        "items": len(read("items")),
        "by_level": {
            level: sum(row["level"] == level for row in body["fields"])
            for level in ("general", "important", "core")
        },
        "by_personal": {
            c: sum(row["personal"] == c for row in body["fields"])
            for c in ("none", "personal", "sensitive")
        },
        "undeclared": 0,
    }


def test_each_audience_is_in_exactly_one_visibility(demo_db: str) -> None:
    body = json.loads(report("--format", "json", "--database-url", demo_db).stdout)
    for row in body["fields"]:
        roles = row["roles"]
        seen = roles["plain"] + roles["masked"] + roles["hidden"]
        assert sorted(seen) == sorted(AUDIENCES), row["key"]
        assert set(roles["unmask"]) <= set(roles["masked"]), row["key"]
    income = next(
        row
        for row in body["fields"]
        if row["key"] == "monthly_income_yuan" and row["item_name"] == "最低生活保障申请"
    )
    assert income["personal"] == "sensitive" and income["level_zh"] == "重要"
    assert income["roles"]["masked"] == ["clerk", "reviewer", "admin"]
    assert income["roles"]["hidden"] == ["auditor", "anonymous"]
    assert income["roles"]["unmask"] == ["clerk", "reviewer"]


def test_text_is_an_aligned_chinese_table(cli_db: str) -> None:
    lines = report().stdout.splitlines()  # the database from TONGBAN_DATABASE_URL
    assert lines[0] == "数据分类分级清单 (Data classification report)"
    assert "未声明 (undeclared)：0" in lines
    header = next(i for i, line in enumerate(lines) if line.startswith("字段 (Field)"))
    table = lines[header:]
    for title in ("级别 (Level)", "个人信息 (PIPL)", "可申请明文 (Unmask)", "存储位置 (Stored)"):
        assert title in table[0]
    assert len(table) == 1 + len(load_policy().fields) + len(demo_fields())
    # Every cell of a column starts at the same screen column (CJK characters are wide).
    starts = [_cell_starts(line) for line in table]
    assert len(starts[0]) == 15
    assert all(row == starts[0] for row in starts), "columns drift"
    income = next(line for line in table if "monthly_income_yuan" in line)
    assert re.search(r"最低生活保障申请\s+个人财产信息\s+重要\s+敏感个人信息\s+明文\s+脱敏", income)
    assert "窗口人员、审批人员" in income and "用于核对家庭经济状况" in income
    phone = next(line for line in table if "case.applicant_phone" in line)
    assert "cases.applicant_phone" in phone and re.search(r"\s是\s", phone)


def _cell_starts(line: str) -> list[int]:
    """Screen columns where the cells of a table line begin (cells are 2+ spaces apart)."""
    return [display_width(line[: m.start()]) for m in re.finditer(r"\S+(?: \S+)*", line)]


def test_legacy_undeclared_fields_and_inactive_items(demo_db: str) -> None:
    lowbao = next(i for i in read("items") if i["name"] == "最低生活保障申请")
    seal = next(i for i in read("items") if i["name"] == "印章刻制备案")
    legacy_schema = json.loads(json.dumps(lowbao["form_schema"]))
    del legacy_schema["properties"]["reason"]["x-privacy"]  # saved before declarations
    with transaction(demo_db) as session:
        # Written directly: the catalog service would refuse the undeclared field.
        session.execute(
            update(ServiceItem)
            .where(ServiceItem.code == lowbao["code"])
            .values(form_schema=legacy_schema, version=ServiceItem.version + 1)
        )
        session.execute(
            update(ServiceItem).where(ServiceItem.code == seal["code"]).values(active=False)
        )
    body = json.loads(report("--format", "json", "--database-url", demo_db).stdout)
    fields = by_key(body)
    reason = fields[(lowbao["code"], "reason")]
    assert not reason["declared"] and reason["category"] == "未声明"
    assert reason["roles"] == {"plain": [], "masked": [], "hidden": [], "unmask": []}
    assert body["summary"]["undeclared"] == 1
    assert not any(code == seal["code"] for code, _ in fields)
    text = report("--database-url", demo_db).stdout
    assert "未声明 (undeclared)：1" in text
    row = next(line for line in text.splitlines() if "申请理由 reason" in line)
    assert (
        "最低生活保障申请" in row and row.count("未声明") == 10
    )  # class, level, PIPL, 6 audiences, unmask


def test_unknown_format_is_refused(demo_db: str) -> None:
    result = runner.invoke(app, ["privacy", "report", "--format", "xml", "--database-url", demo_db])
    assert result.exit_code == 2
