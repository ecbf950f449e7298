"""File storage by content hash behind one interface: a local folder or S3-compatible storage."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol

from tongban.config import Settings, get_settings


class Storage(Protocol):
    def put(self, content: bytes) -> str: ...
    def get(self, sha256: str) -> bytes: ...


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, content: bytes) -> str:
        sha256 = digest(content)
        path = self._path(sha256)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # write-then-rename: a crash never leaves a half-written file under its hash
            fd, tmp = tempfile.mkstemp(dir=path.parent)
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
            os.replace(tmp, path)
        return sha256

    def get(self, sha256: str) -> bytes:
        return self._path(sha256).read_bytes()


class S3Storage:
    def __init__(self, settings: Settings) -> None:
        import boto3

        self.bucket = settings.s3_bucket
        self.client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            aws_access_key_id=settings.s3_access_key,
            aws_secret_access_key=settings.s3_secret_key,
        )

    def put(self, content: bytes) -> str:
        sha256 = digest(content)
        self.client.put_object(Bucket=self.bucket, Key=f"materials/{sha256}", Body=content)
        return sha256

    def get(self, sha256: str) -> bytes:
        response = self.client.get_object(Bucket=self.bucket, Key=f"materials/{sha256}")
        body: bytes = response["Body"].read()
        return body


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
