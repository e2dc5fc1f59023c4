"""Writes of the documents app: storing file contents."""

from __future__ import annotations

from .models import StoredFile
from .storage import blob_store

# Upload limit for one file; a scanned letter of 30 pages is about 10 MB.
MAX_FILE_BYTES = 50 * 1024 * 1024


def store_file(data: bytes, content_type: str) -> StoredFile:
    """Put ``data`` in the blob store and record it; the same content is stored once."""
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"file too large: {len(data)} bytes > {MAX_FILE_BYTES}")
    sha = blob_store().put(data)
    stored, _ = StoredFile.objects.get_or_create(
        sha256=sha, defaults={"size": len(data), "content_type": content_type}
    )
    return stored


def read_file(sha256: str) -> bytes:
    """The content of a stored file."""
    return blob_store().get(sha256)
