"""Runtime configuration, read from the environment (prefix ``TONGBAN_``)."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

VAR_DIR = Path("var")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TONGBAN_", env_file=".env", extra="ignore")

    database_url: str = f"sqlite:///{VAR_DIR / 'tongban.db'}"
    # Connections per process, sized with the web server's threads (docs/concurrency.md):
    # the server runs at most db_pool_size threads, so each has a connection; the overflow
    # covers commits, which run outside the thread limit. PostgreSQL's max_connections must
    # exceed (db_pool_size + db_max_overflow + 8) × processes on all app servers.
    db_pool_size: int = 20
    db_max_overflow: int = 10
    db_pool_timeout_seconds: float = 30.0
    secret_key: str = ""
    secret_key_file: Path = VAR_DIR / "secret.key"
    center_region: str = "640425"
    storage: str = "local"  # "local" or "s3"
    storage_dir: Path = VAR_DIR / "files"
    s3_endpoint_url: str | None = None
    s3_bucket: str = "tongban"
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    max_upload_bytes: int = 10 * 1024 * 1024
    max_case_upload_bytes: int = 50 * 1024 * 1024
    max_body_bytes: int = 12 * 1024 * 1024
    warning_workdays: int = 1
    token_ttl_seconds: int = 8 * 3600
    session_ttl_seconds: int = 2 * 3600
    secure_cookies: bool = False
    default_locale: str = "zh_CN"
    # argon2id cost; the defaults are argon2-cffi's (RFC 9106 low-memory profile).
    # The test suite lowers them so that loading the demo users takes milliseconds.
    login_max_failures: int = 5  # consecutive failures within the window lock the account
    login_window_seconds: int = 15 * 60
    login_lockout_seconds: int = 15 * 60
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    # Encryption at rest: keys live in a file outside the database (docs/privacy.md).
    crypto_suite: str = "aes-gcm"  # "aes-gcm" or "sm4-gcm" (国密)
    key_file: Path = VAR_DIR / "keys.json"
    # Tamper-evident audit log: the checkpoint signing key and the witness file
    # (an append-only copy of every checkpoint, kept outside the database).
    audit_signing_key_file: Path = VAR_DIR / "audit-signing.key"
    audit_signature_algorithm: str = "ed25519"  # or "sm2"
    audit_checkpoint_file: Path = VAR_DIR / "audit-checkpoints.jsonl"
    audit_checkpoint_every: int = 1000  # entries between automatic checkpoints
    audit_checkpoint_seconds: int = 300  # or this long since the last one
    # Appends under contention are queued and integrated into the tree within this
    # published maximum merge delay (docs/audit.md, "Queued appends"); "queue" queues
    # every append, "direct" integrates in the writer's transaction when the head is free.
    audit_max_merge_delay_seconds: float = 2.0
    audit_append: str = "direct"  # or "queue"; "wait" waits for the head (as before 0013)
    # Misuse alerts (rules first; docs/audit.md explains each).
    alert_window_minutes: int = 60
    alert_bulk_persons: int = 200  # distinct persons one account reads in the window
    alert_unrelated_reads: int = 20  # reads of records not tied to the reader's work
    alert_unmask_count: int = 20  # unmask requests in the window
    alert_baseline_days: int = 30
    alert_baseline_min_days: int = 7
    alert_baseline_sigmas: float = 3.0
    alert_baseline_floor: int = 50
    working_hours: str = "08:00-19:00"  # Beijing time, on working days
    # Data exchange (docs/exchange.md): this node's identity and signing key, the demo
    # legacy sources, and the defaults for providers' timeouts, retries and breakers.
    exchange_node_id: str = "tongban-640425"
    exchange_node_key_file: Path = VAR_DIR / "exchange-node.key"
    exchange_signature_algorithm: str = "ed25519"  # or "sm2"
    exchange_sources_dir: Path = VAR_DIR / "exchange"
    exchange_max_skew_seconds: int = 300  # signed requests older or newer are refused
    exchange_timeout_seconds: float = 3.0
    exchange_retries: int = 2
    exchange_backoff_seconds: float = 0.05  # first retry's delay, doubled each time
    exchange_breaker_failures: int = 5  # consecutive failures that open the circuit
    exchange_breaker_cooldown_seconds: float = 30.0

    # Feedback (docs/feedback.md): 差评 follow-ups and the complaint zone's deadlines.
    follow_up_workdays: int = 15  # 差评 回访 → 整改/说明 → 反馈 within these working days
    complaint_response_hours: int = 24  # first response, clock hours
    complaint_result_workdays: int = 3  # result, working days, unless the category says
    complaint_result_workdays_by_category: dict[str, int] = {}  # e.g. {"policy": 5}
    complaint_warning_hours: int = 4  # warn the assignee this long before a deadline
    complaint_admin_escalation_hours: int = 24  # after the department head, the center
    complaint_auto_confirm_days: int = 7  # a resolved complaint confirms itself after
    worker_interval_seconds: int = 60

    # Notifications (docs/notifications.md): in-site messages, e-mail over SMTP, SMS through
    # a gateway. No SMTP host: no e-mail is queued; sms_gateway "none": no SMS is queued.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_from: str = "noreply@tongban.localhost"
    smtp_timeout_seconds: float = 10.0
    sms_gateway: str = "none"  # "none" | "demo" (a page shows what was sent) | "http"
    sms_gateway_url: str = ""
    sms_gateway_token: str = ""
    sms_gateway_timeout_seconds: float = 10.0
    notify_max_attempts: int = 6  # then the message is "failed" (kept, shown to admins)
    notify_retry_seconds: float = 60.0  # first retry's delay, doubled after each failure
    notify_retry_max_seconds: float = 3600.0
    notify_batch_size: int = 20  # messages one worker claims at a time

    def resolved_secret_key(self) -> str:
        """The signing key: configured, or generated once into a file under var/."""
        if self.secret_key:
            return self.secret_key
        path = self.secret_key_file
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
