"""Uploads with a size limit that holds while they stream: an upload is never read whole to be refused.

A view that takes files calls ``limit_uploads(request)`` before anything reads the request body
(for a page: under ``csrf_exempt``, with ``csrf_protect`` after it; for the API: ``limited_upload``
in ``saraban.api.uploads``). Then:

- a body whose ``Content-Length`` already says more than the limit (plus room for the typed fields
  and the multipart framing) is refused at once, and not one byte of it is read;
- otherwise ``LimitedUploadHandler``, first of the request's upload handlers, counts the bytes of the
  files as they arrive and drops every file from the one that goes over the limit (the rest of the
  form is still parsed); ``upload_refusal(request)`` then says so. Files over Django's
  ``FILE_UPLOAD_MAX_MEMORY_SIZE`` (2.5 MB) are spooled to a temporary file, never held in memory.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest

from .services import FileTooLarge, max_file_bytes

# Room in a request, besides its files, for the multipart framing (part headers, file names).
FRAMING_BYTES = 1024 * 1024


class LimitedUploadHandler(FileUploadHandler):
    """Counts the bytes of all files of one request; from the one over ``limit`` on, files are skipped."""

    def __init__(self, request: HttpRequest, limit: int, field: str) -> None:
        super().__init__(request)
        self.limit = limit
        self.field = field
        self.received = 0
        self.refused = False

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        """A file begins: skipped at once when an earlier one already went over the limit."""
        super().new_file(*args, **kwargs)
        if self.refused:
            raise SkipFile()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        """Pass the chunk on to the next handlers, or skip the file once the files are over the limit."""
        self.received += len(raw_data)
        if self.received > self.limit:
            self.refused = True
            raise SkipFile()  # Django closes (and deletes) what the next handlers kept of this file
        return raw_data

    def file_complete(self, file_size: int) -> None:
        """The next handlers (memory or temporary file) make the uploaded file."""
        return None

    def refusal(self) -> FileTooLarge | None:
        """The refusal when a file was skipped for its size, else ``None``."""
        return FileTooLarge(limit=self.limit, field=self.field, together=True) if self.refused else None


def body_limit(limit: int) -> int:
    """The largest request body that can carry files of ``limit`` bytes with a full form."""
    return limit + (settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0) + FRAMING_BYTES


def limit_uploads(request: HttpRequest, *, field: str = "file", limit: int | None = None) -> FileTooLarge | None:
    """Limit the files of ``request`` to ``limit`` bytes together (default: ``max_file_bytes()``).

    Call it before the body is read. Returns the refusal when the declared ``Content-Length`` is
    already too large: the body is then left unread. Otherwise installs ``LimitedUploadHandler`` and
    returns ``None``; ask ``upload_refusal`` once the form has been parsed.
    """
    limit = max_file_bytes() if limit is None else limit
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except (TypeError, ValueError):
        declared = 0  # Django refuses a malformed length itself
    if declared > body_limit(limit):
        return FileTooLarge(limit=limit, field=field, together=True)
    request.upload_handlers.insert(0, LimitedUploadHandler(request, limit, field))
    return None


def upload_refusal(request: HttpRequest) -> FileTooLarge | None:
    """Whether ``limit_uploads`` dropped a file of ``request`` for its size (reads the body if not yet read)."""
    request.FILES  # noqa: B018 — parse the body now, through the limited handler
    for handler in request.upload_handlers:
        if isinstance(handler, LimitedUploadHandler):
            return handler.refusal()
    return None
