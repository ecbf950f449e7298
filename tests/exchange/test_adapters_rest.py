"""The REST/JSON adapter against a small real HTTP server on loopback (no mocks)."""

from __future__ import annotations

import csv
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from tongban.demo.legacy import LegacySources
from tongban.exchange.adapters import Claim, SourceError, open_adapter
from tongban.exchange.adapters_rest import RestAdapter, json_path
from tongban.exchange.mapping import load_mapping
from tongban.exchange.quality import quality_report


class DibaoApi(ThreadingHTTPServer):
    """A 民政 低保 API serving the roster in the nested shape provincial APIs use."""

    daemon_threads = True

    def __init__(self, roster: list[dict[str, str]]) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.items = [
            {
                "jbxx": {"sfzh": r["身份证号"], "xm": r["姓名"]},
                "bzzt": r["保障状态"],
                "rdrq": r["认定日期"],
            }
            for r in roster
        ]
        self.requests = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: DibaoApi

    def do_GET(self) -> None:
        self.server.requests += 1
        url = urlsplit(self.path)
        if url.path == "/api/v1/dibao":
            query = parse_qs(url.query)
            page, size = int(query["page"][0]), int(query["size"][0])
            chunk = self.server.items[(page - 1) * size : page * size]
            self._json(200, {"code": 0, "data": {"items": chunk, "total": len(self.server.items)}})
        elif url.path.startswith("/api/v1/dibao/"):
            key = unquote(url.path.rsplit("/", 1)[1])
            found = [item for item in self.server.items if item["jbxx"]["sfzh"] == key]
            self._json(200 if found else 404, {"code": 0, "data": found})
        elif url.path.startswith("/slow/"):
            time.sleep(1.0)
            self._json(200, {"code": 0, "data": []})
        elif url.path.startswith("/broken/"):
            self._json(500, {"code": 500, "message": "内部错误"})
        elif url.path.startswith("/html/"):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html>maintenance</html>")
        else:
            self._json(404, {})

    def _json(self, status: int, body: Any) -> None:
        payload = json.dumps(body, ensure_ascii=False).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (the timeout test)

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass


@pytest.fixture(scope="module")
def api(legacy: LegacySources) -> Iterator[DibaoApi]:
    with legacy.subsistence_csv.open(encoding="gb18030", newline="") as handle:
        server = DibaoApi(list(csv.DictReader(handle)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def with_lookup(path: str, timeout: float = 5.0) -> Any:
    mapping = load_mapping("subsistence_api")
    assert mapping.rest is not None
    rest = mapping.rest.model_copy(update={"lookup": path, "timeout_seconds": timeout})
    return mapping.model_copy(update={"rest": rest})


def test_json_paths() -> None:
    document = {"data": {"items": [{"a": 1}, {"a": 2}]}}
    assert json_path(document, "data.items.1.a") == 2
    assert json_path(document, "data.items.5.a") is None
    assert json_path(document, "data.missing") is None
    assert json_path(document, "") is document


def test_fetch_and_claims_over_http(api: DibaoApi, legacy: LegacySources) -> None:
    adapter = open_adapter("subsistence_api", api.base_url)
    assert isinstance(adapter, RestAdapter)
    try:
        id_number = legacy.samples["roster"][0]
        [record] = adapter.fetch(["DE0002", "DE0021", "DE0022"], id_number)
        assert record.values["DE0021"] in {"1", "2", "3"}
        assert len(str(record.values["DE0022"])) == 10  # an ISO date from Unix seconds
        assert adapter.check(Claim(id_number, {"DE0021": record.values["DE0021"]}))
        assert adapter.fetch(["DE0002"], legacy.samples["clean_applicant"][0]) == []  # 404
    finally:
        adapter.close()


def test_the_listing_is_paged_through_and_its_quality_matches_the_file(
    api: DibaoApi, legacy: LegacySources
) -> None:
    adapter = open_adapter("subsistence_api", api.base_url)
    from_file = open_adapter("subsistence", legacy.subsistence_csv)
    try:
        over_http = quality_report(adapter)
        on_disk = quality_report(from_file)
        assert over_http.rows == on_disk.rows == len(api.items)
        for code in ("DE0001", "DE0021", "DE0022"):
            assert over_http.element(code).missing == on_disk.element(code).missing
            assert over_http.element(code).reasons == on_disk.element(code).reasons
        assert over_http.element("DE0001").missing == 1
        assert over_http.element("DE0022").reasons == {"bad_date": 1}
    finally:
        adapter.close()


@pytest.mark.parametrize(
    ("path", "timeout", "code"),
    [
        ("/slow/{key}", 0.3, "source_timeout"),
        ("/broken/{key}", 5.0, "source_unavailable"),
        ("/html/{key}", 5.0, "source_unavailable"),
    ],
)
def test_a_failing_source_raises_a_clear_error(
    api: DibaoApi, legacy: LegacySources, path: str, timeout: float, code: str
) -> None:
    adapter = RestAdapter(with_lookup(path, timeout), api.base_url)
    try:
        started = time.perf_counter()
        with pytest.raises(SourceError) as raised:
            adapter.fetch(["DE0002"], legacy.samples["roster"][0])
        assert raised.value.code == code
        assert time.perf_counter() - started < 0.9  # the timeout holds, nobody waits for the source
    finally:
        adapter.close()


def test_a_source_that_is_down_is_unavailable(legacy: LegacySources) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    server.server_close()  # nothing listens there any more
    adapter = open_adapter("subsistence_api", f"http://127.0.0.1:{port}")
    try:
        with pytest.raises(SourceError) as raised:
            adapter.check(Claim(legacy.samples["roster"][0]))
        assert raised.value.code == "source_unavailable" and raised.value.status == 503
    finally:
        adapter.close()
