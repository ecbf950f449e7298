"""Light pages (design §4.9) and complete translations (design §4.8)."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from fastapi.testclient import TestClient

from tongban.web import i18n
from web.webtools import DIBAO_CODE, login

LIMIT = 150 * 1024
WEB_DIR = Path(i18n.__file__).parent


def _weight(client: TestClient, path: str) -> int:
    """HTML plus every stylesheet and script it links, as sent on the wire (uncompressed)."""
    page = client.get(path)
    assert page.status_code == 200, path
    total = len(page.content)
    for asset in re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text):
        total += len(client.get(asset).content)
    return total


def test_citizen_pages_stay_under_150_kb(web: TestClient) -> None:
    paths = ["/", "/search?q=低保", f"/items/{DIBAO_CODE}"]
    weights = {p: _weight(web, p) for p in paths}
    login(web, "applicant_ma")
    weights[f"/apply/{DIBAO_CODE}"] = _weight(web, f"/apply/{DIBAO_CODE}")
    for path, size in weights.items():
        assert size < LIMIT, f"{path}: {size} bytes"
    assert sum(weights.values()) < LIMIT * len(weights)


def _source_messages() -> set[str]:
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    return {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(WEB_DIR), method_map, options_map=options, keywords={"_": None, "gettext": None}
        )
        if isinstance(message, str)
    }


def test_every_message_has_an_english_translation() -> None:
    """Run `pybabel extract` + `update` (docs/web.md) and translate when this fails."""
    messages = _source_messages()
    assert len(messages) > 100
    english = i18n.catalog("en")
    missing = sorted(m for m in messages if m not in english)
    assert not missing, f"untranslated: {missing}"


def test_translations_keep_their_placeholders() -> None:
    for source, text in i18n.catalog("en").items():
        assert set(re.findall(r"%\(\w+\)s", source)) == set(re.findall(r"%\(\w+\)s", text)), source


def test_unknown_locale_falls_back_to_chinese() -> None:
    assert i18n.normalize_locale("fr") is None
    assert i18n.make_gettext("zh_CN")("首页") == "首页"
    assert i18n.make_gettext("en")("首页") == "Home"
    assert i18n.make_gettext("en")("不在目录里的话") == "不在目录里的话"
