"""Load on a real server: tongban's pages and API against a "hello" page as the ceiling.

Run: .venv/bin/python bench/load.py [--seconds 10] [--connections 16]
         [--configs sqlite:1,postgresql:1,postgresql:2] [--targets home,search,item,search-api]

Needs `wrk` (Debian package ``wrk``). For each configuration (database, worker processes) it
loads the demo county into a fresh database, starts ``tongban serve`` and, on the same uvicorn
settings, the five-line FastAPI page of bench/hello.py; then drives each with wrk (2 threads,
16 connections) on loopback, one target after another — each after an unmeasured warm-up
(2-second runs until the pace is steady and no answer takes 0.5 s: templates compiled, word
lists loaded in every worker; none before submissions, which would add cases) — and prints
req/s, p50 and p99 and the ratio to the hello page measured in the same run (the mean of a
hello run before the targets and one after). Targets (issue 11, 2 cores): anonymous catalog
pages >= 40% of hello; audited case reads >= 500/s and submissions >= 100/s on PostgreSQL
with 2 workers. The load generator shares the machine's
cores with the server, as the hello page's does: the ratio is the figure to compare.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from cases import drop_database, make_database

BENCH_DIR = Path(__file__).parent
PASSWORD = "Demo@2026"
SUBMITTED_ITEM = "社会保障卡申领"  # no upload needed: its materials come from shared data
SUBMIT_LUA = """
local counter = 0
local prefix = tostring({}):gsub("table: ", "")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(token)s"
wrk.body = [==[%(body)s]==]
request = function()
  counter = counter + 1
  wrk.headers["Idempotency-Key"] = "load-" .. prefix .. "-" .. counter
  return wrk.format()
end
"""
READ_LUA = """
wrk.headers["Authorization"] = "Bearer %(token)s"
"""
GZIP_LUA = """
wrk.headers["Accept-Encoding"] = "gzip, deflate, br"
"""
TARGETS = "home,home-gzip,search,item,search-api,case-read,submission"
WRITES = {"submission"}
HELLO = "hello (ceiling)"
WARM_UP_SECONDS = 2
WARM_UP_ROUNDS = 6
WARM_P99_MS = 500.0


@dataclass
class Result:
    target: str
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: int


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def environment(url: str) -> dict[str, str]:
    """The database; files and keys go to var/ under the run's directory (the servers' cwd)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TONGBAN_")}
    return {**env, "TONGBAN_DATABASE_URL": url}


@contextmanager
def server(command: list[str], env: dict[str, str], port: int, cwd: Path) -> Any:
    log = (cwd / f"server-{port}.log").open("wb")
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code < 500:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            raise RuntimeError(f"server on {port} did not start; see {log.name}")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def wrk(url: str, seconds: int, connections: int, script: str | None, work: Path) -> Result:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if script is not None:
        path = work / f"script-{abs(hash(script))}.lua"
        path.write_text(script, encoding="utf-8")
        command += ["-s", str(path)]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return Result(
        target="",
        rps=rps,
        p50_ms=_latency(out, "50%"),
        p99_ms=_latency(out, "99%"),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        errors=sum(int(n) for n in errors.groups()) if errors else 0,
    )


def warm_up(url: str, connections: int, script: str | None, work: Path) -> None:
    """Unmeasured load until it is steady: first use in each worker (templates compiled, the
    search word lists loaded) takes seconds on a busy machine, and a request still waiting
    when a run ends is in no latency figure — so a run counts as steady when it had no slow
    tail *and* kept the previous run's pace. More connections than measured, so that every
    worker process gets some."""
    previous = 0.0
    for _ in range(WARM_UP_ROUNDS):
        run = wrk(url, WARM_UP_SECONDS, connections * 4, script, work)
        if run.p99_ms < WARM_P99_MS and run.rps > 0.75 * previous > 0:
            return
        previous = run.rps


def _latency(out: str, percentile: str) -> float:
    found = re.search(rf"^\s+{re.escape(percentile)}\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    if found is None:
        return float("nan")
    value, unit = float(found.group(1)), found.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def prepare(url: str, env: dict[str, str], work: Path) -> dict[str, Any]:
    """The demo county (no history), and what the targets need: tokens, a case, a body."""
    subprocess.run(
        [sys.executable, "-m", "tongban.cli", "demo", "load", "--history-cases", "0"],
        env=env,
        cwd=work,
        check=True,
        capture_output=True,
    )
    code = subprocess.run(
        [sys.executable, "-c", _PREPARE.replace("ITEM_NAME", SUBMITTED_ITEM)],
        env=env,
        cwd=work,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return dict(json.loads(code.strip().splitlines()[-1]))


# Run in a child process with the benchmark's environment (settings are read from it).
_PREPARE = """
import json
from sqlalchemy import select
from tongban.catalog import service as catalog_service
from tongban.cases.models import Case
from tongban.db import transaction
from tongban.demo.cases import sample_form
with transaction() as s:
    found = catalog_service.search_items(s, q="ITEM_NAME", size=1).items[0]
    item = catalog_service.get_item(s, code=found.code)
    case_no = s.scalar(select(Case.case_no).order_by(Case.id).limit(1))
form = sample_form([item], id_number="")
print(json.dumps({"item_code": item.code, "form": form, "case_no": case_no}))
"""


def token(base: str, username: str) -> str:
    answer = httpx.post(
        f"{base}/api/v1/auth/token", json={"username": username, "password": PASSWORD}, timeout=30
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def run_config(
    backend: str, workers: int, seconds: int, connections: int, chosen: set[str]
) -> list[Result]:
    work = Path(tempfile.mkdtemp(prefix=f"tongban-load-{backend}-"))
    url = make_database(backend, work)
    env = environment(url)
    results: list[Result] = []
    try:
        data = prepare(url, env, work)
        port = free_port()
        hello = [sys.executable, "-m", "uvicorn", "hello:app", "--app-dir", str(BENCH_DIR)]
        hello += ["--port", str(port), "--workers", str(workers), "--no-access-log"]
        tongban_port = free_port()
        serve = [sys.executable, "-m", "tongban.cli", "serve", "--port", str(tongban_port)]
        serve += ["--workers", str(workers)]
        # Both servers up at once, the ceiling measured before and after the targets: the
        # machine's load drifts during a run, the ratio is to the mean of the two.
        with (
            server(hello, env, port, work) as ceiling,
            server(serve, env, tongban_port, work) as base,
        ):
            warm_up(ceiling + "/", connections, None, work)
            results.append(_named(HELLO, wrk(ceiling + "/", seconds, connections, None, work)))
            results += _targets(base, data, seconds, connections, work, chosen)
            results.append(_named(HELLO, wrk(ceiling + "/", seconds, connections, None, work)))
    finally:
        drop_database(url)
    return results


def _targets(
    base: str, data: dict[str, Any], seconds: int, connections: int, work: Path, chosen: set[str]
) -> list[Result]:
    clerk, applicant = token(base, "clerk"), token(base, "applicant_ma")
    body = json.dumps({"item_code": data["item_code"], "form": data["form"], "materials": []})
    probe = httpx.post(
        f"{base}/api/v1/cases",
        content=body,
        headers={
            "Authorization": f"Bearer {applicant}",
            "Content-Type": "application/json",
            "Idempotency-Key": "load-probe",
        },
        timeout=30,
    )
    if probe.status_code != 201:
        raise RuntimeError(f"the submission body is refused: {probe.status_code} {probe.text}")
    targets: dict[str, tuple[str, str, str | None]] = {
        "home": ("home page", "/", None),
        "home-gzip": ("home page, gzip", "/", GZIP_LUA),
        "search": ("search page", f"/search?q={quote('低保')}", None),
        "item": ("item guide", f"/items/{data['item_code']}", None),
        "search-api": ("search API", f"/api/v1/items?q={quote('低保')}", None),
        "case-read": (
            "audited case read",
            f"/api/v1/cases/{data['case_no']}",
            READ_LUA % {"token": clerk},
        ),
        "submission": (
            "case submission",
            "/api/v1/cases",
            SUBMIT_LUA % {"token": applicant, "body": body},
        ),
    }
    results = []
    for key, (name, path, script) in targets.items():
        if key in chosen:
            if key not in WRITES:
                warm_up(base + path, connections, script, work)
            results.append(_named(name, wrk(base + path, seconds, connections, script, work)))
    return results


def _named(name: str, result: Result) -> Result:
    result.target = name
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--configs", default="sqlite:1,postgresql:1,postgresql:2")
    parser.add_argument("--targets", default=TARGETS, help=f"some of {TARGETS}")
    args = parser.parse_args()
    chosen = set(args.targets.split(","))
    if chosen - set(TARGETS.split(",")):
        parser.error(f"unknown targets: {', '.join(sorted(chosen - set(TARGETS.split(','))))}")
    for config in args.configs.split(","):
        backend, workers = config.split(":")
        results = run_config(backend, int(workers), args.seconds, args.connections, chosen)
        ceiling = (results[0].rps + results[-1].rps) / 2
        print(f"\n{backend}, {workers} worker(s), wrk -t2 -c{args.connections} -d{args.seconds}s")
        print(f"{'target':<20} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'÷hello':>7} errors")
        for r in results:
            print(
                f"{r.target:<20} {r.rps:>9.0f} {r.p50_ms:>8.1f} {r.p99_ms:>8.1f} "
                f"{r.rps / ceiling:>7.3f} {r.non_2xx + r.errors}"
            )


if __name__ == "__main__":
    main()
