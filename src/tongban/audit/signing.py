"""Signing the audit log's checkpoints: Ed25519 by default, SM2 (国密) when configured.

The key lives in ``settings.audit_signing_key_file``, outside the database, created
owner-only on first use:

    {"algorithm": "ed25519", "private_key": "<base64 of the 32-byte secret>",
     "retired": [{"algorithm": "ed25519", "public_key": "<base64>"}]}

Switching ``TONGBAN_AUDIT_SIGNATURE_ALGORITHM`` makes a new key on next use and keeps
the old public key under ``retired``, so checkpoints signed before still verify.
A key is named by the first 16 hex digits of the SHA-256 of its public key.

SM2 (GB/T 32918, SM3 digest, default signer id ``1234567812345678``) comes from
``tongsuopy``, the Python binding of Tongsuo (铜锁), installed with the ``gm`` extra;
docs/dependencies.md says why that one.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from tongban.config import get_settings
from tongban.errors import DomainError

ALGORITHMS = ("ed25519", "sm2")


def key_id_of(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()[:16]


class Verifier(ABC):
    """A public key that checks signatures."""

    algorithm: str

    def __init__(self, public_key: bytes) -> None:
        self.public_key = public_key
        self.key_id = key_id_of(public_key)

    @abstractmethod
    def verify(self, message: bytes, signature: bytes) -> bool: ...


class Signer(Verifier):
    """A private key that also signs."""

    @abstractmethod
    def sign(self, message: bytes) -> bytes: ...

    @abstractmethod
    def secret(self) -> bytes:
        """The 32-byte private scalar or seed, for the key file."""


# -- Ed25519 (pyca/cryptography) -------------------------------------------------


class Ed25519Verifier(Verifier):
    algorithm = "ed25519"

    def __init__(self, public_key: bytes) -> None:
        super().__init__(public_key)
        self._key = Ed25519PublicKey.from_public_bytes(public_key)

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


class Ed25519Signer(Signer, Ed25519Verifier):
    def __init__(self, secret: bytes) -> None:
        self._private = Ed25519PrivateKey.from_private_bytes(secret)
        Ed25519Verifier.__init__(self, self._private.public_key().public_bytes_raw())

    @classmethod
    def generate(cls) -> Ed25519Signer:
        return cls(Ed25519PrivateKey.generate().private_bytes_raw())

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)

    def secret(self) -> bytes:
        return self._private.private_bytes_raw()


# -- SM2 (tongsuopy) -------------------------------------------------------------


def _sm2() -> SimpleNamespace:
    """tongsuopy's SM2 pieces, imported on first use (an optional dependency)."""
    try:
        from tongsuopy.crypto import hashes, serialization
        from tongsuopy.crypto.asymciphers import ec
        from tongsuopy.crypto.exceptions import InternalError as SM2InternalError
        from tongsuopy.crypto.exceptions import InvalidSignature as SM2InvalidSignature
    except ImportError as exc:
        raise DomainError(
            "sm2_unavailable",
            "未安装国密 SM2 支持：请安装 tongban[gm]（tongsuopy）。",
            "SM2 is not installed: install tongban[gm] (tongsuopy).",
            status=500,
        ) from exc
    return SimpleNamespace(
        ec=ec,
        hashes=hashes,
        serialization=serialization,
        # a malformed (not DER) signature surfaces as Tongsuo's internal error
        rejected=(SM2InvalidSignature, SM2InternalError, ValueError),
    )


class SM2Verifier(Verifier):
    algorithm = "sm2"

    def __init__(self, public_key: bytes) -> None:
        super().__init__(public_key)
        self._lib = _sm2()
        self._key = self._lib.ec.EllipticCurvePublicKey.from_encoded_point(
            self._lib.ec.SM2(), public_key
        )

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            self._key.verify(signature, message, self._lib.ec.ECDSA(self._lib.hashes.SM3()))
        except self._lib.rejected:
            return False
        return True


class SM2Signer(Signer, SM2Verifier):
    def __init__(self, secret: bytes) -> None:
        lib = _sm2()
        self._private = lib.ec.derive_private_key(int.from_bytes(secret, "big"), lib.ec.SM2())
        point = self._private.public_key().public_bytes(
            lib.serialization.Encoding.X962, lib.serialization.PublicFormat.UncompressedPoint
        )
        SM2Verifier.__init__(self, point)

    @classmethod
    def generate(cls) -> SM2Signer:
        lib = _sm2()
        private = lib.ec.generate_private_key(lib.ec.SM2())
        return cls(private.private_numbers().private_value.to_bytes(32, "big"))

    def sign(self, message: bytes) -> bytes:
        return bytes(self._private.sign(message, self._lib.ec.ECDSA(self._lib.hashes.SM3())))

    def secret(self) -> bytes:
        return int(self._private.private_numbers().private_value).to_bytes(32, "big")


_SIGNERS: dict[str, type[Ed25519Signer] | type[SM2Signer]] = {
    "ed25519": Ed25519Signer,
    "sm2": SM2Signer,
}
_VERIFIERS: dict[str, type[Verifier]] = {"ed25519": Ed25519Verifier, "sm2": SM2Verifier}


def generate(algorithm: str) -> Signer:
    if algorithm not in _SIGNERS:
        raise ValueError(f"unknown signature algorithm {algorithm!r}; use one of {ALGORITHMS}")
    return _SIGNERS[algorithm].generate()


def verifier(algorithm: str, public_key: bytes) -> Verifier:
    return _VERIFIERS[algorithm](public_key)


# -- the key file ----------------------------------------------------------------


@dataclass
class SigningKeys:
    """The current signer and the public keys of earlier ones."""

    current: Signer
    retired: list[Verifier] = field(default_factory=list)

    def verifier(self, key_id: str) -> Verifier | None:
        for candidate in (self.current, *self.retired):
            if candidate.key_id == key_id:
                return candidate
        return None

    def to_json(self) -> str:
        return json.dumps(
            {
                "algorithm": self.current.algorithm,
                "private_key": base64.b64encode(self.current.secret()).decode(),
                "retired": [
                    {
                        "algorithm": v.algorithm,
                        "public_key": base64.b64encode(v.public_key).decode(),
                    }
                    for v in self.retired
                ],
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> SigningKeys:
        data = json.loads(text)
        signer = _SIGNERS[data["algorithm"]](base64.b64decode(data["private_key"]))
        retired = [
            verifier(item["algorithm"], base64.b64decode(item["public_key"]))
            for item in data.get("retired", [])
        ]
        return cls(signer, retired)


_lock = threading.Lock()
_cache: dict[tuple[Path, str], tuple[float, SigningKeys]] = {}


def signing_keys() -> SigningKeys:
    """The process's signing keys, from the key file (made or rotated on first use)."""
    settings = get_settings()
    return keys_from_file(Path(settings.audit_signing_key_file), settings.audit_signature_algorithm)


def keys_from_file(path: Path, algorithm: str) -> SigningKeys:
    """The keys in ``path`` (made, or rotated to ``algorithm``, on first use), cached until
    the file changes. Shared by the audit log's checkpoint key and the exchange node key."""
    with _lock:
        mtime = path.stat().st_mtime if path.exists() else -1.0
        cached = _cache.get((path, algorithm))
        if cached and cached[0] == mtime:
            return cached[1]
        keys = _load_or_create(path, algorithm)
        _cache[(path, algorithm)] = (path.stat().st_mtime, keys)
        return keys


def reset_signing_keys() -> None:
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
        _save(path, keys)
        return keys


def _save(path: Path, keys: SigningKeys) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(keys.to_json())
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
