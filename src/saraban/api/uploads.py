"""API routes that take files: the upload's size is limited while it streams (``documents.uploads``).

``@decorate_view(limited_upload("scans"))`` on a route: before authentication and the parsing of
its parameters, a body whose ``Content-Length`` is over the limit is answered 413 without being
read; otherwise the files are counted as they arrive, and when one went over the limit the answer
is 413 too (ninja's "the field is required" for the dropped file would name the wrong cause).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse

from saraban.documents.uploads import limit_uploads, upload_refusal

Run = Callable[..., HttpResponse]


def limited_upload(field: str) -> Callable[[Run], Run]:
    """A ``decorate_view`` decorator: the route's files (``field``) at most ``max_file_bytes()`` together."""

    def decorate(run: Run) -> Run:
        @wraps(run)
        def limited(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            refusal = limit_uploads(request, field=field)
            if refusal is None:
                response = run(request, *args, **kwargs)
                # 400 is ninja's answer to the file it no longer has; 401/403 stay what they are.
                if response.status_code not in (400, 413) or (refusal := upload_refusal(request)) is None:
                    return response
            operation = run.__self__  # type: ignore[attr-defined]  # ninja's Operation.run
            return operation.api.create_response(request, refusal.as_dict(), status=413)

        return limited

    return decorate
