"""Operations settings (prefix ``TONGBAN_``), apart from the application's so that the
probes, metrics and logs can be configured without touching the domains' settings."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class OpsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TONGBAN_", env_file=".env", extra="ignore")

    # "text": uvicorn's readable lines (development); "json": one JSON object per line.
    log_format: Literal["text", "json"] = "text"
    # /metrics answers loopback callers; anyone else must send "Authorization: Bearer <token>".
    metrics_token: str = ""
    # Scrape-time database figures (queue depth, audit size, exchange calls); off for a
    # database too busy to be asked every scrape.
    metrics_database: bool = True
    # /readyz answers 503 within this many seconds even when the database hangs (a
    # black-holed address: no answer, no refusal).
    ready_timeout_seconds: float = 5.0


@lru_cache
def get_ops_settings() -> OpsSettings:
    return OpsSettings()
