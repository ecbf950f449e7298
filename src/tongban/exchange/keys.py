"""This node's signing key for exchange messages: Ed25519 or SM2 (tongban.audit.signing).

The key file (``settings.exchange_node_key_file``) is separate from the audit
log's: a node's exchange identity can be rotated and published to peers without
touching the log's checkpoint key. It is created owner-only on first use; a change
of ``exchange_signature_algorithm`` makes a new key and keeps the old public key
under ``retired`` so messages signed before still verify.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

from tongban.audit.signing import SigningKeys, keys_from_file, reset_signing_keys
from tongban.config import get_settings


@dataclass(frozen=True)
class NodeIdentity:
    node_id: str
    algorithm: str
    key_id: str
    public_key: str  # base64


def node_keys() -> SigningKeys:
    """The node's current signer (and retired public keys), loaded or made on first use."""
    settings = get_settings()
    return keys_from_file(
        Path(settings.exchange_node_key_file), settings.exchange_signature_algorithm
    )


def node_identity() -> NodeIdentity:
    signer = node_keys().current
    return NodeIdentity(
        node_id=get_settings().exchange_node_id,
        algorithm=signer.algorithm,
        key_id=signer.key_id,
        public_key=base64.b64encode(signer.public_key).decode(),
    )


def reset_node_keys() -> None:
    reset_signing_keys()  # one cache for every key file
