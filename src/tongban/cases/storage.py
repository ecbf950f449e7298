"""File storage by content hash behind one interface: a local folder or S3-compatible storage.

Every file is encrypted at rest with the field keys (privacy.crypto), per file, with
"file:<sha256>" as associated data so that a file put under another file's name
fails to open. Files are still named by the SHA-256 of their plaintext (identical
uploads are stored once); files stored before encryption are read as they are and
encrypted by the next key rotation (`reencrypt`).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Protocol

from tongban.config import Settings, get_settings
from tongban.errors import DomainError
from tongban.privacy.crypto import FILE_MAGIC, keyring

# Enough of a file to read its key id: magic, key-id length, key id (at most 255 bytes).
HEADER_BYTES = len(FILE_MAGIC) + 1 + 255
_HASH = re.compile(r"[0-9a-f]{64}")


class Storage(Protocol):
    def put(self, content: bytes) -> str: ...
    def get(self, sha256: str) -> bytes: ...
    def hashes(self) -> Iterator[str]: ...
    def key_id_of(self, sha256: str) -> str | None: ...
    def reencrypt(self, sha256: str) -> bool: ...
    def discard(
        self, sha256: str, *, still_needed: Callable[[], bool], untouched_since: datetime
    ) -> bool: ...


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def file_context(sha256: str) -> str:
    return f"file:{sha256}"


class EncryptedStore(ABC):
    """Seals on the way in and opens on the way out; a backend only moves bytes."""

    def put(self, content: bytes) -> str:
        sha256 = digest(content)
        # an identical file is stored once; a legacy plain copy is sealed now
        if not self._exists(sha256) or self.key_id_of(sha256) is None:
            self._write(sha256, keyring().encrypt_bytes(content, context=file_context(sha256)))
        return sha256

    def get(self, sha256: str) -> bytes:
        return _open(sha256, self._read(sha256))

    def key_id_of(self, sha256: str) -> str | None:
        """The key a stored file is sealed with; None for a file stored before encryption."""
        return keyring().file_key_id(self._read_head(sha256, HEADER_BYTES))

    def reencrypt(self, sha256: str) -> bool:
        """Seal a file with the active key unless it already is; True when rewritten.

        Safe beside a running app: the plaintext of a name never changes, so a
        concurrent put writes the same content, and the write is atomic.
        """
        ring = keyring()
        ring.refresh_if_due()
        if self.key_id_of(sha256) == ring.active:  # the header is enough to tell
            return False
        blob = self._read(sha256)
        content = _open(sha256, blob)
        self._write(sha256, ring.encrypt_bytes(content, context=file_context(sha256)))
        return True

    # -- the backend's part ----------------------------------------------------------
    @abstractmethod
    def hashes(self) -> Iterator[str]:
        """The names (plaintext SHA-256) of every stored file."""
        ...

    @abstractmethod
    def _exists(self, sha256: str) -> bool: ...

    @abstractmethod
    def _read(self, sha256: str) -> bytes: ...

    @abstractmethod
    def _read_head(self, sha256: str, size: int) -> bytes: ...

    @abstractmethod
    def _write(self, sha256: str, blob: bytes) -> None:
        """Replace the stored bytes at once: a reader never sees a partial file."""
        ...


def _open(sha256: str, blob: bytes) -> bytes:
    content = keyring().decrypt_bytes(blob, context=file_context(sha256))
    # a file stored before encryption has no tag: its name is its integrity check
    if not blob.startswith(FILE_MAGIC) and digest(content) != sha256:
        raise DomainError(
            "file_corrupted",
            "存储的文件内容与其摘要不符，可能已被篡改。",
            "A stored file does not match its digest; it may have been tampered with.",
            status=500,
            details={"sha256": sha256},
        )
    return content


class LocalStorage(EncryptedStore):
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def hashes(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for path in sorted(self.root.glob("??/??/*")):
            name = path.name
            if (
                _HASH.fullmatch(name)
                and path.parent.name == name[2:4]
                and path.parent.parent.name == name[:2]
            ):
                yield name

    def put(self, content: bytes) -> str:
        sha256 = digest(content)
        try:  # touching an existing copy tells a concurrent discard that it is wanted
            os.utime(self._path(sha256))
            if self.key_id_of(sha256) is not None:
                return sha256
        except FileNotFoundError:
            pass
        return super().put(content)

    def discard(
        self, sha256: str, *, still_needed: Callable[[], bool], untouched_since: datetime
    ) -> bool:
        """Remove a file no upload refers to any more; True when removed.

        The file is first moved aside, so a concurrent ``put`` of the same content either
        touched it before (it is kept) or finds it gone and writes a fresh copy.
        """
        path = self._path(sha256)
        aside = path.with_name(f".discard-{sha256}")
        try:
            os.replace(path, aside)
        except FileNotFoundError:
            return False
        touched = aside.stat().st_mtime >= untouched_since.timestamp()
        if touched or still_needed():
            if not path.exists():
                os.replace(aside, path)
            else:
                aside.unlink(missing_ok=True)
            return False
        aside.unlink()
        return True

    def _exists(self, sha256: str) -> bool:
        return self._path(sha256).exists()

    def _read(self, sha256: str) -> bytes:
        return self._path(sha256).read_bytes()

    def _read_head(self, sha256: str, size: int) -> bytes:
        with self._path(sha256).open("rb") as handle:
            return handle.read(size)

    def _write(self, sha256: str, blob: bytes) -> None:
        path = self._path(sha256)
        path.parent.mkdir(parents=True, exist_ok=True)
        # write-then-rename: a crash never leaves a half-written file under its hash
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(blob)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


class S3Storage(EncryptedStore):
    PREFIX = "materials/"

    def __init__(self, settings: Settings) -> None:
        import boto3

        self.bucket = settings.s3_bucket
        self.client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            aws_access_key_id=settings.s3_access_key,
            aws_secret_access_key=settings.s3_secret_key,
        )

    def hashes(self) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.PREFIX
        )
        for page in pages:
            for item in page.get("Contents", []):
                name = item["Key"][len(self.PREFIX) :]
                if _HASH.fullmatch(name):
                    yield name

    def _exists(self, sha256: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self.PREFIX + sha256)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def _read(self, sha256: str) -> bytes:
        response = self.client.get_object(Bucket=self.bucket, Key=self.PREFIX + sha256)
        body: bytes = response["Body"].read()
        return body

    def _read_head(self, sha256: str, size: int) -> bytes:
        response = self.client.get_object(
            Bucket=self.bucket, Key=self.PREFIX + sha256, Range=f"bytes=0-{size - 1}"
        )
        body: bytes = response["Body"].read()
        return body

    def put(self, content: bytes) -> str:
        sha256 = digest(content)
        if self._exists(sha256) and self.key_id_of(sha256) is not None:
            # a copy onto itself renews LastModified: a concurrent discard keeps the object
            key = self.PREFIX + sha256
            self.client.copy_object(
                Bucket=self.bucket,
                Key=key,
                CopySource={"Bucket": self.bucket, "Key": key},
                MetadataDirective="REPLACE",
            )
            return sha256
        return super().put(content)

    def discard(
        self, sha256: str, *, still_needed: Callable[[], bool], untouched_since: datetime
    ) -> bool:
        """Remove an object no upload refers to and nobody wrote since ``untouched_since``.

        S3 has no rename: a ``put`` racing this check between the head and the delete
        could lose its copy, so only objects untouched for the whole grace period go.
        """
        from botocore.exceptions import ClientError

        key = self.PREFIX + sha256
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError:
            return False
        if head["LastModified"] >= untouched_since or still_needed():
            return False
        self.client.delete_object(Bucket=self.bucket, Key=key)
        return True

    def _write(self, sha256: str, blob: bytes) -> None:
        # an S3 PUT replaces the object whole: readers see the old or the new bytes
        self.client.put_object(Bucket=self.bucket, Key=self.PREFIX + sha256, Body=blob)


def get_storage(settings: Settings | None = None) -> Storage:
    settings = settings or get_settings()
    if settings.storage == "s3":
        return S3Storage(settings)
    return LocalStorage(settings.storage_dir)


# Content sniffing: the type is what the bytes say, never what the name says.
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


def sniff_content_type(content: bytes) -> str | None:
    for magic, content_type in SIGNATURES:
        if content.startswith(magic):
            return content_type
    if content.startswith(b"PK\x03\x04") and _is_ofd(content):
        return "application/ofd"
    return None


def _is_ofd(content: bytes) -> bool:
    """OFD (GB/T 33190) is a ZIP package whose entry point is OFD.xml."""
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return "OFD.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False
