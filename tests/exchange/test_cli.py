"""`tongban exchange providers | quality | stats | node | peers` on a demo database."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from exchange_support import MA, demo_actor
from tongban.audit.signing import generate
from tongban.cli import app
from tongban.config import get_settings
from tongban.db import transaction
from tongban.demo.loader import read
from tongban.exchange import service

runner = CliRunner()


@pytest.fixture
def database(exchange_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("TONGBAN_DATABASE_URL", exchange_db)
    get_settings.cache_clear()
    yield exchange_db
    monkeypatch.undo()
    get_settings.cache_clear()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["exchange", *args])
    return result.exit_code, result.output


def test_providers_lists_status_services_and_claims(database: str) -> None:
    code, output = invoke("providers")
    assert code == 0, output
    assert "population" in output and "已启用(enabled)" in output and "公安人口库" in output
    assert "realestate.ownership" in output and "owns_property, owns_certificate" in output
    assert "subsistence.csv" in output


def test_quality_reports_the_providers_source(database: str) -> None:
    code, output = invoke("quality", "realestate")
    assert code == 0, output
    assert "数据质量报告 Data-quality report: 不动产登记库 (realestate)" in output
    # The deliberate defects of the demo register (demo/legacy.py DEFECTS).
    assert "格式不符 bad_format ×1" in output and "缺失 missing ×2" in output
    code, output = invoke("quality", "nonesuch")
    assert code == 2 and "exchange_provider_not_found" in output


def test_stats_shows_requests_errors_and_percentiles(database: str) -> None:
    code, output = invoke("stats")
    assert code == 0 and "没有调用 / no calls" in output
    with transaction(database) as s:
        clerk = demo_actor(s, "clerk")
        for name in (MA.name, "别人"):
            service.verify(
                s,
                actor=clerk,
                service_code="population.person_basic",
                subject=MA.id_number,
                purpose="identity_check",
                claim="name_matches",
                claim_values={"DE0002": name},
            )
        service.verify(
            s,
            actor=clerk,
            service_code="population.person_basic",
            subject=MA.id_number,
            purpose="other",
            claim="name_matches",
            claim_values={"DE0002": MA.name},
        )
    code, output = invoke("stats", "--minutes", "10")
    assert code == 0, output
    (line,) = [row for row in output.splitlines() if row.startswith("population.person_basic")]
    assert line.split()[1:5] == ["3", "2", "1", "0"]  # requests, answered, denied, unavailable
    assert "exchange_not_authorized×1" in output


def test_node_prints_the_key_that_peers_add(database: str) -> None:
    code, output = invoke("node")
    assert code == 0 and "node id:    tongban-640425" in output
    peer_key = base64.b64encode(generate("ed25519").public_key).decode()
    code, output = invoke(
        "peers", "add", "county-b", "--url", "http://127.0.0.1:9", "--public-key", peer_key
    )
    assert code == 0 and "trusted county-b (ed25519)" in output, output
    code, output = invoke("peers", "list")
    assert "county-b" in output and "active" in output
    code, output = invoke("peers", "add", "county-c", "--url", "x", "--public-key", "AAAA")
    assert code == 2 and "exchange_bad_peer_key" in output


def test_coverage_lists_per_item_how_each_material_is_replaced(database: str) -> None:
    items = read("items")
    declared = sum(bool(m.get("replaced_by_data")) for i in items for m in i["materials"])
    code, output = invoke("coverage", "--format", "json")
    assert code == 0, output
    report = json.loads(output)
    totals = report["totals"]
    assert totals["shared_data"] == declared == 32
    assert totals["materials"] == sum(len(i["materials"]) for i in items) == 98
    assert totals["shared_data"] + totals["description"] + totals["paper"] == totals["materials"]
    by_item = {i["name"]: {m["name"]: m for m in i["materials"]} for i in report["items"]}
    cards = by_item["结婚登记"]["男女双方居民身份证"]
    assert (cards["how"], cards["service"], cards["elements"]) == (
        "shared_data", "population.person_basic", ["DE0001", "DE0002"]
    )  # fmt: skip
    assert cards["subjects"] == ["applicant.id_number", "form.partner_id"]
    licence = by_item["印章刻制备案"]["营业执照"]
    assert (licence["service"], licence["claim"]) == ("enterprise.registration", "registered")
    house = by_item["住房公积金贷款"]["无其他住房证明"]
    assert (house["claim"], house["holds"]) == ("owns_property", False)
    family = by_item["最低生活保障申请"]["家庭成员居民身份证"]  # the applicant and each listed
    assert family["subjects"] == ["applicant.id_number", "form.family_members"]
    assert by_item["出生医学证明"]["父母双方居民身份证"]["how"] == "description"
    assert by_item["结婚登记"]["近期半身免冠合影照片"]["how"] == "paper"

    code, text = invoke("coverage")
    assert code == 0, text
    assert "免提交覆盖 Shared-data coverage of the catalog" in text
    assert f"数据共享替代 shared data {declared}" in text
    assert "claim owns_property (must not hold)" in text
    assert "subjects applicant.id_number, form.partner_id" in text
    code, output = invoke("coverage", "--format", "xml")
    assert code == 2
