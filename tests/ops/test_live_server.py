"""Request ids, JSON logs and metrics summed over two workers, against `tongban serve`."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import httpx

from ops_support import cli, serving

IDENTITY_NUMBER = "11010519491231002X"  # valid check digit: the scanner masks it


def _request_total(metrics: str, route: str, status: str) -> float:
    pattern = (
        r'^tongban_http_requests_total\{method="GET",route="'
        + re.escape(route)
        + r'",status="'
        + status
        + r'"\} (\S+)$'
    )
    return sum(float(m.group(1)) for m in re.finditer(pattern, metrics, re.MULTILINE))


def test_two_workers_json_logs_request_ids_and_summed_metrics(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "TONGBAN_DATABASE_URL": f"sqlite:///{tmp_path / 'site.db'}",
        "TONGBAN_LOG_FORMAT": "json",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # the server chooses its own per start
    assert cli("db", "upgrade", env=env).returncode == 0
    log = tmp_path / "server.log"
    with serving(env, workers=2, log=log) as base:
        kept = httpx.get(base + "/healthz", headers={"X-Request-ID": "lb-7f3a.42"})
        replaced = httpx.get(base + "/healthz", headers={"X-Request-ID": "x" * 200})
        generated = httpx.get(f"{base}/api/v1/items", params={"q": IDENTITY_NUMBER})
        # New connections, so that both workers answer some of them.
        for n in range(40):
            assert httpx.get(f"{base}/nowhere/{n}").status_code == 404
        scraped = [httpx.get(base + "/metrics") for _ in range(4)]
    assert kept.headers["x-request-id"] == "lb-7f3a.42"
    assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["x-request-id"])
    rid = generated.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", rid)

    for response in scraped:  # whichever worker answers, the count is the server's
        assert response.status_code == 200
        assert _request_total(response.text, "<unmatched>", "404") == 40
        assert "/nowhere/" not in response.text

    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "uvicorn.access"]
    assert any(line.get("request_id") == "lb-7f3a.42" for line in access)
    searched = [line for line in access if line.get("request_id") == rid]
    assert searched and searched[0]["path"].startswith("/api/v1/items")
    assert IDENTITY_NUMBER not in log.read_text()  # masked on the way out
    assert len({line["request_id"] for line in access if "request_id" in line}) > 40
