"""A real server for the browser tests: the demo county migrated into a temporary SQLite
file, uvicorn on a free loopback port, and Debian's Chromium (never a downloaded one)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import server_support

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
    app = server_support.start(env, log=var / "server.log")
    workers: list[subprocess.Popen[bytes]] = []
    if worker:
        command = [sys.executable, "-m", "tongban.cli", "worker", "--interval", "0.5"]
        workers.append(subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL))
    base = app.base
    try:
        yield base
    finally:
        for process in workers:
            process.terminate()
            process.wait(timeout=10)
        app.stop()


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
