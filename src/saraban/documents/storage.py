"""Blob storage: files addressed by the SHA-256 of their content.

Every PDF, scan and attachment goes through a ``BlobStore``. The local filesystem store is the
embedded default; another store (S3-compatible, for instance) implements the same four methods and
is chosen with the ``SARABAN_BLOB_STORE`` setting.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class BlobNotFound(LookupError):
    """No blob with this digest is in the store."""


class BlobStore(Protocol):
    """Where file contents live, addressed by their SHA-256 (hex)."""

    def put(self, data: bytes) -> str:
        """Store ``data`` (idempotent) and return its SHA-256."""
        ...

    def get(self, sha256: str) -> bytes:
        """The content stored under ``sha256``; ``BlobNotFound`` if absent."""
        ...

    def exists(self, sha256: str) -> bool:
        """Whether ``sha256`` is stored."""
        ...

    def delete(self, sha256: str) -> None:
        """Remove the content (records destruction uses this); absent is not an error."""
        ...


def sha256_hex(data: bytes) -> str:
    """The SHA-256 of ``data`` as lowercase hex."""
    return hashlib.sha256(data).hexdigest()


def _check_digest(sha256: str) -> str:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
    return sha256


class LocalBlobStore:
    """Blobs as files under ``root/ab/cd/<sha256>``, written atomically (temp file, fsync, rename)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def _path(self, sha256: str) -> Path:
        _check_digest(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> str:
        digest = sha256_hex(data)
        path = self._path(digest)
        if path.exists():
            return digest
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o440)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def get(self, sha256: str) -> bytes:
        try:
            return self._path(sha256).read_bytes()
        except FileNotFoundError:
            raise BlobNotFound(sha256) from None

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).exists()

    def delete(self, sha256: str) -> None:
        self._path(sha256).unlink(missing_ok=True)


@cache
def blob_store() -> BlobStore:
    """The configured blob store (``settings.SARABAN_BLOB_STORE``)."""
    config: dict[str, Any] = settings.SARABAN_BLOB_STORE
    store_class = import_string(str(config["BACKEND"]))
    store: BlobStore = store_class(**config.get("OPTIONS", {}))
    return store
