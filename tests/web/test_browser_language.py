"""Chinese pages are Chinese only: Chromium walks every page of the demo it can reach — as a
visitor, a citizen, window and department staff, the administrator and the auditor — and
no English word of the messages catalog may show on a Chinese page (its text, title,
labels for screen readers and placeholders). Names, codes and what people typed may hold
Latin letters; the English pages are the place for English.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from babel.messages.pofile import read_po

from web.browser_support import CHROMIUM, CHROMIUM_ARGS, DEMO_SETUP, running_server

pytestmark = pytest.mark.browser
# The demo with a short history, so that case, complaint and dashboard pages have content.
SETUP = DEMO_SETUP + "from tongban.demo.history import load_history\nload_history(cases=160)\n"
ROLES = (None, "applicant_ma", "clerk", "reviewer_mzj", "admin", "auditor")
PAGES_PER_ROLE = 70
SAME_SHAPE = 2  # of /workbench/cases/<n>, /items/<code> …: the first few are enough
SKIP = re.compile(r"lang=|/logout|\.pdf|\.csv|\.html\?|/materials/|/static/|/favicon|/elder/")
VISIBLE_TEXT = """() => {
  const copy = document.body.cloneNode(true);
  copy.querySelectorAll('[lang]:not([lang^="zh"]), script, style, svg title')
      .forEach(e => e.remove());
  const attributes = [...document.querySelectorAll('[aria-label],[title],[placeholder],[alt]')]
      .filter(e => !e.closest('[lang]:not([lang^="zh"])'))
      .flatMap(e => ['aria-label', 'title', 'placeholder', 'alt'].map(a => e.getAttribute(a)))
      .filter(Boolean);
  document.body.appendChild(copy); copy.style.display = 'none';
  const text = copy.textContent; copy.remove();
  return [document.title, text, ...attributes].join('\\n');
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("browser-language"), setup=SETUP) as base:
        yield base


def english_words() -> set[str]:
    """Every word of the English translations (the words that must stay on English pages)."""
    path = Path(str(resources.files("tongban.web"))) / "locales/en/LC_MESSAGES/messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle)
    words = set()
    for message in catalog:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            words |= {w.lower() for w in re.findall(r"[A-Za-z]{2,}", text or "")}
    return words - names()


def names() -> set[str]:
    """Account names of the demo (shown next to people's names on staff pages)."""
    demo = Path(str(resources.files("tongban.demo"))) / "users.json"
    users = json.loads(demo.read_text(encoding="utf-8"))
    return {part for user in users for part in re.split(r"[_\W]+", user["username"]) if part}


def leaked(text: str, catalog: set[str]) -> set[str]:
    # ALL-CAPS tokens are codes and formats (PDF, OFD, the letters of a 统一社会信用代码);
    # dotted, dashed, underscored and prefixed tokens are identifiers (population.identity,
    # item:11640425…).
    words = re.findall(r"(?<![A-Za-z0-9_.:-])[A-Za-z][a-z]+(?![A-Za-z0-9_-]|[.:][A-Za-z0-9])", text)
    return {w for w in words if w.lower() in catalog}


def crawl(page, server: str, catalog: set[str]) -> tuple[dict[str, set[str]], int]:  # type: ignore[no-untyped-def]
    """(address → catalog words seen there, pages read), breadth-first from where it stands."""
    found: dict[str, set[str]] = {}
    queue, seen, shapes = deque([page.url]), set(), {}  # type: ignore[var-annotated]
    while queue and len(seen) < PAGES_PER_ROLE:
        url = queue.popleft()
        shape = re.sub(r"\d+|[0-9A-Z]{10,}", "#", urlsplit(url).path)
        if url in seen or shapes.get(shape, 0) >= SAME_SHAPE:
            continue
        seen.add(url)
        shapes[shape] = shapes.get(shape, 0) + 1
        response = page.goto(url)
        if response is None or "text/html" not in response.headers.get("content-type", ""):
            continue
        words = leaked(page.evaluate(VISIBLE_TEXT), catalog)
        if words:
            found[url.removeprefix(server)] = words
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
            if href.startswith(server) and not SKIP.search(href):
                queue.append(href.split("#", 1)[0])
    return found, len(seen)


def test_no_english_words_on_any_chinese_page(server: str) -> None:
    from playwright.sync_api import sync_playwright

    catalog = english_words()
    assert {"submit", "case", "department"} <= catalog  # the check has teeth
    leaks: dict[str, dict[str, set[str]]] = {}
    visited: dict[str, int] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for username in ROLES:
            context = browser.new_context(locale="zh-CN")
            page = context.new_page()
            if username:
                page.goto(server + "/login")
                page.get_by_label("用户名").fill(username)
                page.get_by_label("密码").fill("Demo@2026")
                page.get_by_role("button", name="登录").click()
                page.wait_for_load_state()
            else:
                page.goto(server + "/")
            found, visited[username or "anonymous"] = crawl(page, server, catalog)
            if found:
                leaks[username or "anonymous"] = found
            context.close()
        browser.close()
    print("pages read per role:", visited)
    assert min(visited.values()) >= 8 and sum(visited.values()) >= 120, visited
    report = {r: {u: sorted(w) for u, w in f.items()} for r, f in leaks.items()}
    assert not leaks, json.dumps(report, ensure_ascii=False, indent=1)
