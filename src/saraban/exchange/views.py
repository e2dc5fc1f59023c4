"""The HTTP binding of the exchange (docs/exchange.md): messages in, and this deployment's directory.

Machine to machine: no session, no CSRF token; every message carries its own signature, checked by
``receiving.receive_message``. The body is read from the stream up to the limit, never whole first.
"""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from .asic import MIMETYPE
from .batch import BATCH_MEDIA_TYPE, MAX_BATCH_MESSAGES, BatchPart, decode_batch, encode_batch
from .client import MESSAGE_ID_HEADER
from .peering import our_directory_document
from .receiving import receive_message, receive_messages, refusal_answer
from .refusals import EnvelopeRefused, refused

log = logging.getLogger(__name__)
_CHUNK = 1024 * 1024


def _not_allowed(allowed: str) -> HttpResponse:
    response = JsonResponse({"code": "method_not_allowed", "message_th": f"ใช้ได้เฉพาะ {allowed}",
                             "message_en": f"Only {allowed} is allowed here", "problems": []}, status=405)
    response["Allow"] = allowed
    return response


def _unavailable() -> JsonResponse:
    # Not signed, so the sender keeps the message and tries again later.
    return JsonResponse({"code": "exchange.unavailable", "message_th": "ระบบรับข้อความขัดข้องชั่วคราว ให้ส่งใหม่ภายหลัง",
                         "message_en": "The receiver is temporarily unable to store messages; retry later",
                         "problems": []}, status=503, headers={"Retry-After": "30"})


def declared_message_id(request: HttpRequest) -> uuid.UUID | None:
    """The ``Saraban-Message-Id`` header: the id the sender says the body carries, for refusing a body
    that is not read (too large, wrong type) with a rejection the sender can match (None: no such id)."""
    value = request.headers.get(MESSAGE_ID_HEADER, "")[:64]
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def _read_limited(request: HttpRequest, limit: int) -> bytes | None:
    """The body, or None once it exceeds ``limit`` (the rest is not read)."""
    chunks, size = [], 0
    while chunk := request.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


@csrf_exempt
def messages(request: HttpRequest) -> HttpResponse:
    """``POST /exchange/messages``: one signed ASiC-E message; the answer is a signed receipt or rejection."""
    if request.method != "POST":
        return _not_allowed("POST")
    limit = settings.SARABAN_EXCHANGE["max_message_bytes"]
    claimed = declared_message_id(request)
    try:
        if request.content_type != MIMETYPE:
            answer = refusal_answer(refused("exchange.unsupported_media_type", request.content_type or "none"),
                                    in_reply_to=claimed)
        else:
            declared = request.META.get("CONTENT_LENGTH") or "0"
            data = None if (declared.isdigit() and int(declared) > limit) else _read_limited(request, limit)
            if data is None:
                answer = refusal_answer(refused("exchange.too_large", f"{declared} bytes > {limit}"),
                                        in_reply_to=claimed)
            else:
                answer = receive_message(data, claimed_id=claimed)
    except Exception:  # a database that is down or locked: the sender retries, nothing was kept
        log.exception("exchange: a message could not be received")
        return _unavailable()
    return HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)


@csrf_exempt
def batches(request: HttpRequest) -> HttpResponse:
    """``POST /exchange/batches``: several messages in one ``multipart/mixed`` body (``batch.py``).

    The answer is ``multipart/mixed`` with each message's signed answer, in order; a body that is
    not a batch is refused as a whole with one signed rejection (``exchange.bad_batch``).
    """
    if request.method != "POST":
        return _not_allowed("POST")
    limit = settings.SARABAN_EXCHANGE["max_message_bytes"]
    try:
        if request.content_type != BATCH_MEDIA_TYPE:
            answer = refusal_answer(refused("exchange.unsupported_media_type", request.content_type or "none"),
                                    in_reply_to=None)
            return HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)
        declared = request.META.get("CONTENT_LENGTH") or "0"
        data = None if (declared.isdigit() and int(declared) > limit) else _read_limited(request, limit)
        if data is None:
            answer = refusal_answer(refused("exchange.too_large", f"{declared} bytes > {limit}"), in_reply_to=None)
            return HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)
        try:
            parts = decode_batch(data, request.META.get("CONTENT_TYPE", ""), max_parts=MAX_BATCH_MESSAGES)
        except EnvelopeRefused as exc:
            answer = refusal_answer(exc, in_reply_to=None)
            return HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)
        answers = receive_messages(parts)
    except Exception:  # a database that is down or locked: the sender retries, nothing was kept
        log.exception("exchange: a batch could not be received")
        return _unavailable()
    body, content_type = encode_batch([
        BatchPart(a.body, message_id=p.message_id, status=a.status, content_type=a.content_type)
        for p, a in zip(parts, answers, strict=True)
    ])
    return HttpResponse(body, status=200, content_type=content_type)


def directory(request: HttpRequest) -> HttpResponse:
    """``GET /exchange/directory``: this deployment's signed directory document."""
    if request.method not in ("GET", "HEAD"):
        return _not_allowed("GET")
    try:
        document = our_directory_document()
    except Exception:
        log.exception("exchange: the directory document could not be made")
        return _unavailable()
    return HttpResponse(document, content_type=MIMETYPE, headers={"Cache-Control": "no-store"})
