"""Exchange throughput and added latency: a claim check through the full path against the same
question asked directly of the adapter's source, in the same run.

Run: .venv/bin/python bench/exchange.py [--requests 3000] [--threads 1,2] [--db sqlite|postgresql]
     [--people 3000] [--algorithm ed25519|sm2]

The question is 住房公积金贷款's "is this person enrolled in social insurance?"
(``social_insurance.enrolment`` / ``enrolled``) against the demo 社保参保库 (SQLite),
for a different person each time.

* direct: ``adapter.check(Claim(id, {DE0015: "1"}))`` on the opened SQL adapter —
  what any integration must do at the least;
* full path: ``exchange.service.verify`` in its own committed transaction — look up
  the service, authorize (deny by default), sign the request, ask the adapter under
  the breaker, sign the response, check signature and request binding, write two
  audit log entries (Merkle append, MAC) and the monitoring row, commit.

Printed per thread count: requests/s, p50 and p99 latency of each, the added p50 and
p99, and the throughput ratio; and the rate when a case makes 5 checks in its one
transaction (one durable commit for all five). The issue's target: ≥ 500 requests/s
on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

PG_ADMIN = os.environ.get(
    "TONGBAN_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
LOAN = "11640425MB00009TBM201007100100001"
CASE_CHECKS = 5  # a case verifying several materials does so in its one transaction


def configure(workdir: Path, algorithm: str) -> None:
    """Keys and files of this run in a temporary directory (before tongban reads settings)."""
    os.environ["TONGBAN_KEY_FILE"] = str(workdir / "keys.json")
    os.environ["TONGBAN_AUDIT_SIGNING_KEY_FILE"] = str(workdir / "audit.key")
    os.environ["TONGBAN_AUDIT_CHECKPOINT_FILE"] = str(workdir / "checkpoints.jsonl")
    os.environ["TONGBAN_EXCHANGE_NODE_KEY_FILE"] = str(workdir / "node.key")
    os.environ["TONGBAN_EXCHANGE_SIGNATURE_ALGORITHM"] = algorithm
    os.environ["TONGBAN_SECRET_KEY_FILE"] = str(workdir / "secret.key")
    os.environ.setdefault("TONGBAN_ARGON2_TIME_COST", "1")
    os.environ.setdefault("TONGBAN_ARGON2_MEMORY_KIB", "1024")


def make_database(backend: str, workdir: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{workdir / 'tongban.db'}"
    from sqlalchemy import create_engine, text

    name = f"tongban_bench_exchange_{uuid.uuid4().hex[:8]}"
    with create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def drop_database(url: str) -> None:
    if url.startswith("sqlite"):
        return
    from sqlalchemy import create_engine, text

    from tongban.db import get_engine

    get_engine(url).dispose()
    with create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))


def prepare(url: str, sources: Path, people: int) -> list[str]:
    """Demo county + demo exchange in the database; the clean keys of the insured people."""
    from tongban.db import transaction, upgrade
    from tongban.demo.exchange import load_exchange_demo
    from tongban.demo.legacy import create_legacy_sources
    from tongban.demo.loader import load_reference_data
    from tongban.exchange.adapters import open_adapter

    create_legacy_sources(sources, people=people)
    upgrade(url)
    with transaction(url) as session:
        load_reference_data(session)
        load_exchange_demo(session, sources)
    adapter = open_adapter("social_insurance", f"sqlite:///{sources / 'social_insurance.db'}")
    try:
        keys = {str(r.values["DE0001"]) for r in adapter.iter_records() if "DE0001" in r.values}
    finally:
        adapter.close()
    return sorted(keys)


def run(
    work: Callable[[str], object], subjects: Sequence[str], threads: int
) -> tuple[float, list[float]]:
    """(requests per second, sorted latencies in ms) of ``work`` over the subjects."""
    latencies: list[float] = []
    lock = threading.Lock()
    chunks = [subjects[i::threads] for i in range(threads)]

    def worker(chunk: Sequence[str]) -> None:
        mine = []
        for subject in chunk:
            started = time.perf_counter()
            work(subject)
            mine.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(chunk,)) for chunk in chunks]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    return len(subjects) / elapsed, sorted(latencies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--people", type=int, default=3000)
    parser.add_argument("--algorithm", choices=["ed25519", "sm2"], default="ed25519")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="tongban-bench-exchange-") as tmp:
        workdir = Path(tmp)
        configure(workdir, args.algorithm)
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
        url = make_database(args.db, workdir)
        try:
            measure(url, workdir, args)
        finally:
            drop_database(url)


def measure(url: str, workdir: Path, args: argparse.Namespace) -> None:
    from tongban.db import transaction
    from tongban.errors import DomainError
    from tongban.exchange import service
    from tongban.exchange.adapters import Claim, open_adapter
    from tongban.exchange.rules import percentile

    began = time.perf_counter()
    subjects = prepare(url, workdir / "sources", args.people)
    print(f"setup: {len(subjects)} insured people, {args.db}, {args.algorithm}, "
          f"{time.perf_counter() - began:.1f} s")  # fmt: skip
    adapter = open_adapter(
        "social_insurance", f"sqlite:///{workdir / 'sources' / 'social_insurance.db'}"
    )
    outcomes: dict[str, int] = {}

    def direct(subject: str) -> object:
        try:
            return adapter.check(Claim(subject, {"DE0015": "1"}))
        except DomainError as error:  # a defective record: the full path answers "unavailable"
            return error

    def full(subject: str) -> object:
        with transaction(url) as session:
            result = service.verify(
                session,
                actor=None,
                consumer_item_code=LOAN,
                service_code="social_insurance.enrolment",
                claim="enrolled",
                subject=subject,
                purpose="housing_fund_loan",
            )
        outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
        return result

    def case(group: str) -> object:
        with transaction(url) as session:
            for subject in group.split(","):
                service.verify(
                    session,
                    actor=None,
                    consumer_item_code=LOAN,
                    service_code="social_insurance.enrolment",
                    claim="enrolled",
                    subject=subject,
                    purpose="housing_fund_loan",
                )
        return None

    wanted = [subjects[i % len(subjects)] for i in range(args.requests)]
    run(direct, wanted[:200], 1)  # warm both paths (adapter, statement caches)
    run(full, wanted[:200], 1)
    outcomes.clear()
    print(f"{'threads':>7} {'path':<6} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for threads in (int(t) for t in args.threads.split(",")):
        direct_rate, direct_ms = run(direct, wanted, threads)
        full_rate, full_ms = run(full, wanted, threads)
        for name, rate, ms in (("direct", direct_rate, direct_ms), ("full", full_rate, full_ms)):
            print(f"{threads:>7} {name:<6} {rate:>8.0f} {percentile(ms, 50):>8.3f} "
                  f"{percentile(ms, 99):>8.3f}")  # fmt: skip
        groups = [",".join(wanted[i : i + CASE_CHECKS]) for i in range(0, len(wanted), CASE_CHECKS)]
        case_rate, _ = run(case, groups, threads)
        print(f"{threads:>7} {'case':<6} {case_rate * CASE_CHECKS:>8.0f}   "
              f"({CASE_CHECKS} checks per transaction, as one case's materials)")  # fmt: skip
        added50 = percentile(full_ms, 50) - percentile(direct_ms, 50)
        added99 = percentile(full_ms, 99) - percentile(direct_ms, 99)
        print(f"{'':>7} added latency p50 {added50:.3f} ms, p99 {added99:.3f} ms; "
              f"throughput ratio direct/full {direct_rate / full_rate:.1f}x")  # fmt: skip
    adapter.close()
    print(f"outcomes of the full path: {outcomes}")


if __name__ == "__main__":
    main()
