"""415 for a request body the operation does not read: the media types come from the OpenAPI document.

An operation with a request body publishes the media types it reads (``application/json``, or
``multipart/form-data`` for uploads). A body of another type, or JSON declared in a charset other than
UTF-8 (RFC 8259 allows no other), is answered 415 with the usual bilingual error before the
operation runs, instead of a 400 about fields the client did send.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .errors import error_body

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_PARAMETER = re.compile(r"\{[^}]+\}")


@cache
def _accepted() -> list[tuple[str, re.Pattern[str], frozenset[str]]]:
    """(method, path pattern, media types) of every operation that takes a body, from the document."""
    from .main import api  # the API's module imports the routers; read once, on the first body

    document = api.get_openapi_schema()
    accepted = []
    for path, item in document.get("paths", {}).items():
        pattern = re.compile("^" + "[^/]+".join(re.escape(part) for part in _PARAMETER.split(path)) + "$")
        for method, operation in item.items():
            content = (operation.get("requestBody") or {}).get("content") if isinstance(operation, dict) else None
            if content:
                accepted.append((method.upper(), pattern, frozenset(content)))
    return accepted


def refusal(request: HttpRequest) -> HttpResponse | None:
    """The 415 answer for ``request`` when its body's media type is not one its operation reads."""
    if request.method not in _BODY_METHODS or not request.path.startswith("/api/") or not _has_body(request):
        return None
    media_type = request.content_type or ""
    charset = (request.content_params or {}).get("charset", "utf-8").strip().lower()
    for method, pattern, types in _accepted():
        if method == request.method and pattern.match(request.path):
            if media_type not in types:
                return _unsupported(f"ใช้ได้เฉพาะ {', '.join(sorted(types))}", f"use {', '.join(sorted(types))}")
            if media_type == "application/json" and charset not in ("utf-8", "utf8"):
                return _unsupported("JSON ต้องเข้ารหัสแบบ UTF-8", "JSON must be encoded in UTF-8")
            return None
    return None


def _has_body(request: HttpRequest) -> bool:
    """Whether the request has a body to judge: one over Django's limit is left to its 413 instead."""
    declared = request.META.get("CONTENT_LENGTH") or ""
    if not declared.isdigit():
        return "HTTP_TRANSFER_ENCODING" in request.META
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return int(declared) > 0 and (limit is None or int(declared) <= limit)


def _unsupported(th: str, en: str) -> HttpResponse:
    body = error_body("request.unsupported_media_type", f"ชนิดของข้อมูลในคำขอไม่รองรับ: {th}",
                      f"The request body's media type is not supported: {en}")
    return HttpResponse(json.dumps(body, ensure_ascii=False), status=415, content_type="application/json")


class MediaTypeMiddleware:
    """Answers 415 for an API request whose body its operation does not read (``refusal``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """The refusal, or the response of the rest of the stack."""
        return refusal(request) or self.get_response(request)
