"""Data exchange (数据共享交换): standard data elements and adapters to department sources.

elements    the data-element registry (elements.toml) and its code lists
cleaning    pure cleaning and standardization of legacy values (dates in dates.py,
            addresses in addresses.py); failures are Problems, never passed on
mapping     declarative mappings from a legacy source to elements (mappings/*.toml)
adapters    fetch / check / iter_records over SQL (adapters_sql), CSV/Excel file
            drops (adapters_file) and REST/JSON (adapters_rest) sources, read-only
quality     the data-quality report of a source, and cross-source checks

service     what other domains call: verify() (免提交 checks), registry re-exports
registry    providers (four-eyes approval), services, authorizations, peer nodes
consents    persons' consents (given, revoked, expiring)
flow        the consumer's path: authorize, sign, ask (here or a peer), check, record
provider    the provider's side: answer from the source; serve peers' signed requests
protocol    signed envelopes (tongban-exchange/1), canonical JSON, freshness
keys        this node's signing key (Ed25519 or SM2)
sources     open adapters per provider, deadlines inside the source database
resilience  retries with backoff, circuit breakers, deadline threads
transport   HTTP to peer nodes
journal     audit entries and monitoring rows of each exchange
metrics     per-service counts, errors and latency percentiles
rules       pure decisions: statuses, claims, authorization, backoff, percentiles
"""
