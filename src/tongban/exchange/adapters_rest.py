"""REST/JSON adapter: a department's HTTP API, elements found by JSON path.

Timeouts are set on every request; a source that is down, slow or answers
something other than JSON raises ``SourceError`` with a stable code
(``source_unavailable``, ``source_timeout``) so that the caller can fall back to
"please provide the document" instead of failing or passing silently.
Retries, backoff and circuit breaking belong to the exchange service above.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx

from tongban.exchange.adapters import Adapter, MappingError, RawRow, SourceError
from tongban.exchange.mapping import Mapping as SourceMapping
from tongban.exchange.mapping import RestSource

MAX_PAGES = 100_000  # a listing that never ends is a broken source, not a big one


def json_path(document: Any, path: str) -> Any:
    """The value at a dotted path ("data.items", "person.0.sfzh"); None where it is absent."""
    current = document
    for step in filter(None, path.split(".")):
        if isinstance(current, dict):
            current = current.get(step)
        elif isinstance(current, list) and step.isdigit() and int(step) < len(current):
            current = current[int(step)]
        else:
            return None
    return current


class RestAdapter(Adapter):
    def __init__(
        self,
        mapping: SourceMapping,
        base_url: str,
        *,
        client: httpx.Client | None = None,
        **options: Any,
    ) -> None:
        super().__init__(mapping, **options)
        if mapping.rest is None:
            raise MappingError(f"{mapping.source}: not a REST mapping")
        self.rest: RestSource = mapping.rest
        self.client = client or httpx.Client(
            base_url=base_url,
            timeout=httpx.Timeout(self.rest.timeout_seconds),
            headers={"Accept": "application/json"},
        )

    def close(self) -> None:
        self.client.close()

    def _rows_for(self, clean_key: str) -> list[RawRow]:
        answer = self._get(self.rest.lookup.format(key=quote(clean_key, safe="")))
        if answer is None:
            return []
        return [self._by_element(item) for item in _as_list(json_path(answer, self.rest.records))]

    def _all_rows(self) -> Iterator[RawRow]:
        if self.rest.listing is None:
            raise MappingError(f"{self.source}: the mapping names no listing endpoint")
        for page in range(self.rest.first_page, self.rest.first_page + MAX_PAGES):
            answer = self._get(self.rest.listing.format(page=page))
            items = _as_list(json_path(answer, self.rest.items)) if answer is not None else []
            if not items:
                return
            for item in items:
                yield self._by_element(item)

    def _by_element(self, item: Any) -> RawRow:
        return {
            code: json_path(item, origin.path)
            for code, origin in self.mapping.elements.items()
            if origin.path
        }

    def _get(self, path: str) -> Any:
        """The JSON answer, or None for 404 (nothing under that key)."""
        try:
            response = self.client.get(path)
        except httpx.TimeoutException as exc:
            raise self._error("source_timeout", "响应超时", "timed out", exc) from exc
        except httpx.HTTPError as exc:
            raise self._error("source_unavailable", "无法访问", "is not available", exc) from exc
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise self._error(
                "source_unavailable", "返回错误", f"answered {response.status_code}", None
            )
        try:
            return response.json()
        except ValueError as exc:
            raise self._error("source_unavailable", "返回非JSON", "answered no JSON", exc) from exc

    def _error(self, code: str, what_zh: str, what_en: str, exc: Exception | None) -> SourceError:
        error = SourceError(
            code,
            f"数据源{self.source}{what_zh}",
            f"Data source {self.source} {what_en}",
            details={"source": self.source, "cause": type(exc).__name__ if exc else None},
        )
        if code == "source_timeout":
            error.status = 504
        return error


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
