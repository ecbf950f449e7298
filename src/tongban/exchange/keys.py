"""This node's signing key for exchange messages: Ed25519 or SM2 (tongban.audit.signing).

The key file (``settings.exchange_node_key_file``) is separate from the audit
log's: a node's exchange identity can be rotated and published to peers without
touching the log's checkpoint key. It is created owner-only on first use; a change
of ``exchange_signature_algorithm`` makes a new key and keeps the old public key
under ``retired`` so messages signed before still verify.
"""

from __future__ import annotations

import base64
import fcntl
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from tongban.audit.signing import ALGORITHMS, SigningKeys, generate
from tongban.config import get_settings


@dataclass(frozen=True)
class NodeIdentity:
    node_id: str
    algorithm: str
    key_id: str
    public_key: str  # base64


_lock = threading.Lock()
_cache: dict[tuple[Path, str], tuple[float, SigningKeys]] = {}


def node_keys() -> SigningKeys:
    """The node's current signer (and retired public keys), loaded or made on first use."""
    settings = get_settings()
    path = Path(settings.exchange_node_key_file)
    algorithm = settings.exchange_signature_algorithm
    with _lock:
        mtime = path.stat().st_mtime if path.exists() else -1.0
        cached = _cache.get((path, algorithm))
        if cached and cached[0] == mtime:
            return cached[1]
        keys = _load_or_create(path, algorithm)
        _cache[(path, algorithm)] = (path.stat().st_mtime, keys)
        return keys


def node_identity() -> NodeIdentity:
    signer = node_keys().current
    return NodeIdentity(
        node_id=get_settings().exchange_node_id,
        algorithm=signer.algorithm,
        key_id=signer.key_id,
        public_key=base64.b64encode(signer.public_key).decode(),
    )


def reset_node_keys() -> None:
    with _lock:
        _cache.clear()


def _load_or_create(path: Path, algorithm: str) -> SigningKeys:
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown signature algorithm {algorithm!r}; use one of {ALGORITHMS}")
    path.parent.mkdir(parents=True, exist_ok=True)
    # Two processes starting together must not each make a key: one does, under a lock.
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():
            keys = SigningKeys.from_json(path.read_text())
            if keys.current.algorithm == algorithm:
                return keys
            keys = SigningKeys(generate(algorithm), [*keys.retired, keys.current])
        else:
            keys = SigningKeys(generate(algorithm))
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(keys.to_json())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        return keys
