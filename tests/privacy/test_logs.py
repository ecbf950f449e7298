"""No personal numbers in logs: the filter, and a real server's access log grepped."""

from __future__ import annotations

import io
import logging
import os
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import httpx

from tongban.kit.ids import make_id_number
from tongban.privacy.logs import PersonalDataFilter

PLANTED_ID = make_id_number("640425", date(1988, 8, 8), 517)
PLANTED_PHONE = "13987654321"


def _capture() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(PersonalDataFilter())
    logger = logging.getLogger(f"tongban.test.logs.{time.monotonic_ns()}")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return logger, stream


def test_message_arguments_and_exceptions_are_masked() -> None:
    logger, stream = _capture()
    logger.info("lookup %s by %s", PLANTED_ID, PLANTED_PHONE)
    logger.info("user %(id)s", {"id": PLANTED_ID})
    logger.info(f"inline {PLANTED_ID}")
    try:
        raise ValueError(f"bad form value {PLANTED_ID}")
    except ValueError:
        logger.exception("submit failed")
    out = stream.getvalue()
    assert PLANTED_ID not in out and PLANTED_PHONE not in out
    assert out.count(PLANTED_ID[:6] + "********" + PLANTED_ID[-4:]) == 4
    assert "139****4321" in out and "ValueError" in out


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_served_access_log_holds_no_planted_numbers(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "TONGBAN_DATABASE_URL": f"sqlite:///{tmp_path / 'logs.db'}",
        "TONGBAN_STORAGE_DIR": str(tmp_path / "files"),
        "TONGBAN_SECRET_KEY": "log-test-key",
    }
    tongban = [sys.executable, "-m", "tongban.cli"]
    subprocess.run([*tongban, "db", "upgrade"], env=env, check=True, capture_output=True)
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [*tongban, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                httpx.get(f"{base}/api/v1/workdays/years", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        httpx.get(f"{base}/search", params={"q": PLANTED_ID})
        httpx.get(f"{base}/api/v1/items", params={"q": PLANTED_PHONE})
        httpx.get(f"{base}/api/v1/progress", params={"case_no": PLANTED_ID, "code": "X"})
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()
    text = (tmp_path / "server.log").read_text()
    assert "/search?q=" in text  # the access log was written …
    assert PLANTED_ID not in text and PLANTED_PHONE not in text  # … without the numbers
    assert PLANTED_ID[:6] + "********" in text
