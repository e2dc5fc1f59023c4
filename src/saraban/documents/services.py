"""Writes of the documents app: storing file contents."""

from __future__ import annotations

from django.conf import settings

from saraban.core.errors import FieldProblem, SarabanError

from .models import StoredFile
from .storage import BlobNotFound, blob_store


def max_file_bytes() -> int:
    """The largest file accepted and stored, in bytes: ``settings.SARABAN_MAX_UPLOAD_BYTES`` (50 MB).

    A scanned letter of 30 pages is about 10 MB. Set with ``SARABAN_MAX_UPLOAD_MB``.
    """
    return int(settings.SARABAN_MAX_UPLOAD_BYTES)


def megabytes(size: int) -> str:
    """``52428800`` → ``"50"``, ``2621440`` → ``"2.5"``: a size in MB as people write it."""
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0")


class FileTooLarge(SarabanError):
    """A file (or the files of one upload together) over the limit; the message names the limit.

    The API answers it with 413, the pages with the form again and the message next to the file box.
    """

    http_status = 413

    def __init__(self, *, limit: int | None = None, field: str = "file", together: bool = False) -> None:
        limit = max_file_bytes() if limit is None else limit
        mb = megabytes(limit)
        if together:
            th = f"ไฟล์ที่แนบมีขนาดใหญ่เกินกำหนด: รับได้ไม่เกิน {mb} MB (รวมทุกไฟล์)"
            en = f"The attached files are too large: at most {mb} MB is accepted (all files together)"
        else:
            th = f"ไฟล์มีขนาดใหญ่เกินกำหนด: รับได้ไม่เกิน {mb} MB"
            en = f"The file is too large: at most {mb} MB is accepted"
        super().__init__(
            code="file.too_large", message_th=th, message_en=en,
            problems=[FieldProblem(field, "too_large", th, en)],
        )
        self.limit = limit


def store_file(data: bytes, content_type: str, *, max_bytes: int | None = None) -> StoredFile:
    """Put ``data`` in the blob store and record it; the same content is stored once.

    Refuses with ``FileTooLarge`` over ``max_bytes`` (default: ``max_file_bytes()``); a copy made
    from an accepted file (the stamped copy of a scan) may be given a little more room.
    """
    limit = max_file_bytes() if max_bytes is None else max_bytes
    if len(data) > limit:
        raise FileTooLarge(limit=limit)
    sha = blob_store().put(data)
    stored, _ = StoredFile.objects.get_or_create(
        sha256=sha, defaults={"size": len(data), "content_type": content_type}
    )
    return stored


class FileGone(SarabanError):
    """The file's bytes are no longer in the store: destroyed under the Regulation (ข้อ 69), or lost."""

    http_status = 410

    def __init__(self) -> None:
        super().__init__(code="file_gone", message_th="ไฟล์นี้ไม่มีในระบบแล้ว (หนังสือถูกทำลายตามระเบียบฯ ว่าด้วยงานสารบรรณ)",
                         message_en="This file is no longer kept (the letter was destroyed under the Regulation)")


def read_file(sha256: str) -> bytes:
    """The content of a stored file; ``FileGone`` (410) when its bytes were destroyed."""
    try:
        return blob_store().get(sha256)
    except BlobNotFound:
        raise FileGone() from None
