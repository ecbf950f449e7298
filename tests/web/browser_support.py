"""A real server for the browser tests: the demo county migrated into a temporary SQLite
file, uvicorn on a free loopback port, and Debian's Chromium (never a downloaded one)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
REQUIRE = os.environ.get("TONGBAN_REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SETUP = (
    "from tongban import db\n"
    "from tongban.demo.loader import load_reference_data\n"
    "db.upgrade()\n"
    "with db.transaction() as s:\n"
    "    load_reference_data(s)\n"
)
# The demo as `tongban demo load` makes it, without the history: the exchange too.
DEMO_SETUP = (
    "from tongban import db\n"
    "from tongban.demo.exchange import load_demo_grants, load_demo_providers\n"
    "from tongban.demo.links import load_demo_links\n"
    "from tongban.demo.loader import load_catalog, load_places_and_people\n"
    "db.upgrade()\n"
    "with db.transaction() as s:\n"
    "    load_places_and_people(s); load_demo_providers(s); load_catalog(s)\n"
    "    load_demo_grants(s); load_demo_links(s)\n"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_chromium() -> None:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is not installed (apt-get install chromium)"
        if REQUIRE:
            pytest.fail(message)
        pytest.skip(message)


@contextmanager
def running_server(
    var: Path, *, setup: str = SETUP, extra_env: dict[str, str] | None = None, worker: bool = False
) -> Iterator[str]:
    """The app on a free port (and `tongban worker` delivering messages, if asked)."""
    require_chromium()
    env = {
        **os.environ,
        "TONGBAN_DATABASE_URL": f"sqlite:///{var / 'tongban.db'}",
        "TONGBAN_STORAGE_DIR": str(var / "files"),
        "TONGBAN_SECRET_KEY_FILE": str(var / "secret.key"),
        "TONGBAN_EXCHANGE_SOURCES_DIR": str(var / "exchange"),
        **(extra_env or {}),
    }
    # Schema and data in a child process, so this process's engines stay untouched.
    subprocess.run([sys.executable, "-c", setup], env=env, check=True, timeout=600)
    port = free_port()
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "tongban.app:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            env=env,
        )
    ]
    if worker:
        command = [sys.executable, "-m", "tongban.cli", "worker", "--interval", "0.5"]
        processes.append(subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL))
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(base, processes[0])
        yield base
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


def _wait_for(base: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(150):
        try:
            if httpx.get(base + "/", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            pytest.fail("uvicorn exited early")
        time.sleep(0.2)
    pytest.fail("server did not start")


def fill_dibao_form(
    page: Any, *, files: tuple[Path, Path], household: str = "3", income: str = "1200"
) -> None:
    """The 最低生活保障 application as a citizen fills it (the 联系电话 where asked)."""
    phone = page.get_by_label("联系电话")
    if phone.count():
        phone.fill("13900000001")
    page.get_by_label("共同生活家庭成员人数").fill(household)
    page.get_by_label("家庭月总收入（元）").fill(income)
    page.get_by_label("申请理由").fill("家庭收入低于当地低保标准")
    page.get_by_label("户籍所在乡镇").select_option("白阳镇")
    page.get_by_label("最低生活保障申请书").set_input_files(str(files[0]))
    page.get_by_label("家庭经济状况核对授权书").set_input_files(str(files[1]))
