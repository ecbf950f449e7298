"""Operations: health and readiness probes, Prometheus metrics, structured logs with a
request id, and online backup and restore (docs/operations.md)."""
