"""Background work on a job library: what runs (``tasks``), when (``schedule``), and the
runner chosen by the database URL — procrastinate on PostgreSQL (``postgres``), where
several workers on several hosts share one queue and each job and each periodic tick runs
once, and APScheduler in the one worker process of a SQLite county (``county``).

Each task calls the owning domain's ``jobs`` or ``service`` function; this package reads
no domain's tables. ``tongban worker`` starts the runner (docs/operations.md)."""
