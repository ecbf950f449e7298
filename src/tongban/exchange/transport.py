"""Sending a signed request to a peer node over HTTP (POST /api/v1/exchange/requests).

Each attempt is signed afresh (new nonce and timestamp): a retry after a lost answer
must not be taken for a replay. Connection failures, timeouts and 5xx answers
without a signed body are transient; a peer's refusal of the protocol itself (bad
signature, unknown node, replay) is not, and is not retried.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx

from tongban.errors import DomainError
from tongban.exchange import protocol
from tongban.exchange.keys import node_keys
from tongban.exchange.protocol import RequestBody
from tongban.exchange.resilience import breakers, call
from tongban.exchange.sources import policy_of
from tongban.exchange.specs import ProviderConfig
from tongban.kit.clock import now

ENDPOINT = "/api/v1/exchange/requests"

_lock = threading.Lock()
_clients: dict[tuple[str, float], httpx.Client] = {}


def _client(base_url: str, timeout: float) -> httpx.Client:
    with _lock:
        client = _clients.get((base_url, timeout))
        if client is None:
            client = httpx.Client(base_url=base_url, timeout=httpx.Timeout(timeout))
            _clients[(base_url, timeout)] = client
        return client


def close_clients() -> None:
    with _lock:
        clients = list(_clients.values())
        _clients.clear()
    for client in clients:
        client.close()


def send(
    config: ProviderConfig, body: RequestBody, *, backoff: float
) -> tuple[tuple[dict[str, Any], dict[str, Any]], int]:
    """((the signed request that was answered, the peer's reply), attempts)."""
    client = _client(config.location, config.timeout_seconds)

    def attempt() -> tuple[dict[str, Any], dict[str, Any]]:
        fresh = body.model_copy(
            update={"nonce": protocol.new_id(), "issued_at": protocol.iso(now())}
        )
        message = protocol.signed_request(fresh, node_keys().current)
        try:
            reply = client.post(ENDPOINT, json=message)
        except httpx.TimeoutException:
            raise _error("exchange_timeout", "响应超时", "timed out", config) from None
        except httpx.HTTPError:
            raise _error(
                "exchange_node_unreachable", "无法连接", "is unreachable", config
            ) from None
        try:
            data = reply.json()
        except ValueError:
            data = None
        if isinstance(data, dict) and set(data) == {"body", "signature"}:
            return message, data
        if reply.status_code >= 500 or data is None:
            raise _error(
                "exchange_node_unreachable", "返回错误", f"answered {reply.status_code}", config
            )
        error = data.get("error") if isinstance(data, dict) else None
        error = error if isinstance(error, dict) else {}
        raise DomainError(
            str(error.get("code", "exchange_response_invalid")),
            str(error.get("message", "对方节点拒绝了请求")),
            str(error.get("message_en", "The peer node refused the request")),
            status=502,
            details={"provider": config.code, "http_status": reply.status_code},
        )

    breaker = breakers.get(
        config.code, failures=config.breaker_failures, cooldown=config.breaker_cooldown_seconds
    )
    return call(attempt, provider=config.code, breaker=breaker, policy=policy_of(config, backoff))


def _error(code: str, what_zh: str, what_en: str, config: ProviderConfig) -> DomainError:
    return DomainError(
        code,
        f"对方节点{config.name}{what_zh}",
        f"Peer node {config.code} {what_en}",
        status=504 if code == "exchange_timeout" else 503,
        details={"provider": config.code},
    )
