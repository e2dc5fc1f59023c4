"""Every API error is one JSON shape: a stable code, a Thai and an English message, and field problems.

    {"code": "...", "message_th": "...", "message_en": "...",
     "problems": [{"field": "...", "code": "...", "message_th": "...", "message_en": "..."}]}

Statuses: 400 malformed or invalid input (ninja's own request validation included), 401 not
authenticated, 403 refused, 404 not found (also for other organisations' objects: existence is never
revealed), 409 the object's state does not allow it, 413 a request body larger than Django's
``DATA_UPLOAD_MAX_MEMORY_SIZE``, 500 anything unexpected (logged, no details).

What Django refuses while reading a request (a body too large, too many query or form fields, a
broken multipart body) and a value no database column can hold (a number beyond 64 bits, a NUL
character in text) are the client's fault: they get the JSON shape with 413 or 400, never a 500.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from saraban.core.errors import FieldProblem, SarabanError, ValidationFailed
from saraban.core.errors import NotFound as NotFound  # the API's routers raise it from here

logger = logging.getLogger("saraban.api")

# Request locations ninja prefixes to a field's path; not part of the field's name for the client.
_LOCATIONS = {"body", "query", "path", "form", "file", "header", "cookie"}

# Thai names of the API's own fields, so a missing one is named in Thai too.
FIELD_NAMES_TH = {
    "q": "คำค้น",
    "type": "ประเภทหนังสือ",
    "subtype": "ประเภทย่อย",
    "content": "เนื้อหาหนังสือ",
    "subject": "เรื่อง",
    "organisation_id": "หน่วยงาน",
    "owner_unit_id": "ส่วนราชการเจ้าของเรื่อง",
    "to": "หน่วยงานผู้รับ",
    "cc": "สำเนาส่ง",
    "reviewer_ids": "ผู้ตรวจสอบ",
    "signer_id": "ผู้ลงนาม",
    "password": "รหัสผ่าน",
    "comment": "ความเห็น",
    "reason": "เหตุผล",
    "instruction": "ข้อสั่งการ",
    "assign": "การมอบหมาย",
    "unit_id": "หน่วยงานที่มอบหมาย",
    "person_id": "ผู้รับมอบหมาย",
    "due_date": "วันครบกำหนด",
    "note": "ผลการดำเนินการ",
    "sender_name": "หน่วยงานผู้ส่ง (จาก)",
    "letter_number": "เลขที่หนังสือ (ที่)",
    "letter_date": "ลงวันที่",
    "addressed_to": "ถึง",
    "urgency": "ชั้นความเร็ว",
    "secrecy": "ชั้นความลับ",
    "scans": "ไฟล์สแกน",
    "kind": "ประเภททะเบียน",
    "from": "ตั้งแต่วันที่",
    "to_date": "ถึงวันที่",
    "format": "รูปแบบไฟล์",
    "limit": "จำนวนต่อหน้า",
    "offset": "ตำแหน่งเริ่มต้น",
    "status": "สถานะ",
    "box": "กล่องหนังสือ",
    "name": "ชื่อ",
    "organisation": "หน่วยงาน",
    "certificate_id": "ใบรับรอง",
    "letter_id": "รหัสหนังสือ",
    "incoming_id": "รหัสหนังสือเข้า",
    "entry_id": "รหัสรายการในทะเบียน",
    "token_id": "รหัสโทเคน",
    "assignment_id": "รหัสการมอบหมาย",
}

_MESSAGES_TH = {
    "missing": "ต้องระบุ{name}",
    "extra_forbidden": "ไม่รู้จักช่องข้อมูล{name}",
    "enum": "{name}: ค่าไม่อยู่ในรายการที่กำหนด",
    "literal_error": "{name}: ค่าไม่อยู่ในรายการที่กำหนด",
    "int_parsing": "{name}: ต้องเป็นตัวเลข",
    "int_type": "{name}: ต้องเป็นตัวเลข",
    "less_than_equal": "{name}: ค่ามากเกินกำหนด",
    "greater_than_equal": "{name}: ค่าน้อยเกินกำหนด",
    "greater_than": "{name}: ค่าน้อยเกินกำหนด",
    "date_parsing": "{name}: วันที่ไม่ถูกต้อง (ใช้รูปแบบ YYYY-MM-DD ปี ค.ศ.)",
    "date_from_datetime_parsing": "{name}: วันที่ไม่ถูกต้อง (ใช้รูปแบบ YYYY-MM-DD ปี ค.ศ.)",
    "date_type": "{name}: วันที่ไม่ถูกต้อง (ใช้รูปแบบ YYYY-MM-DD ปี ค.ศ.)",
    "string_type": "{name}: ต้องเป็นข้อความ",
    "string_too_long": "{name}: ข้อความยาวเกินกำหนด",
    "string_pattern_mismatch": "{name}: รูปแบบไม่ถูกต้อง",
    "string_nul": "{name}: มีอักขระ NUL (U+0000) ซึ่งใช้ไม่ได้",
    "string_blank": "ต้องระบุ{name} (ไม่ใช่ช่องว่างล้วน)",
    "list_type": "{name}: ต้องเป็นรายการ",
    "bool_type": "{name}: ต้องเป็น true หรือ false",
    "bool_parsing": "{name}: ต้องเป็น true หรือ false",
    "model_type": "{name}: ต้องเป็นออบเจกต์ JSON",
    "model_attributes_type": "{name}: ต้องเป็นออบเจกต์ JSON",
    "dict_type": "{name}: ต้องเป็นออบเจกต์ JSON",
}


def _field_path(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in _LOCATIONS:
        parts = parts[1:]
        # ninja names the whole body after the handler's parameter ("payload"); drop it.
        if parts and parts[0] in ("payload", "data", "params") and len(parts) > 1:
            parts = parts[1:]
    return ".".join(parts) or "(request)"


def problem_from_pydantic(error: Mapping[str, Any]) -> FieldProblem:
    """One pydantic/ninja validation error as a field problem named in Thai and English.

    Only the location, type and pydantic's message are used: input values (a password...) are never echoed.
    """
    field = _field_path(error.get("loc", ()))
    leaf = field.rsplit(".", 1)[-1]
    name_th = FIELD_NAMES_TH.get(leaf, f" “{field}”")
    kind = str(error.get("type", ""))
    template = _MESSAGES_TH.get(kind, "{name}: ข้อมูลไม่ถูกต้อง")
    message_th = template.format(name=name_th).strip()
    if kind == "missing":
        message_en = f"The field “{field}” is required"
    elif kind == "extra_forbidden":
        message_en = f"Unknown field “{field}”"
    else:
        message_en = f"{field}: {error.get('msg', 'invalid value')}"
    return FieldProblem(field=field, code=f"schema.{kind or 'invalid'}", message_th=message_th, message_en=message_en)


def _json(api: NinjaAPI, request: HttpRequest, status: int, body: dict[str, object]) -> HttpResponse:
    return api.create_response(request, body, status=status)


def error_body(code: str, th: str, en: str, problems: Sequence[FieldProblem] = ()) -> dict[str, object]:
    """The JSON body of an error."""
    return SarabanError(code=code, message_th=th, message_en=en, problems=list(problems)).as_dict()


def _megabytes(size: int) -> str:
    """``2621440`` → ``"2.5"``: a size in MB as people write it."""
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0")


def too_large_body() -> dict[str, object]:
    """The body of the 413 answer to a request whose data exceeds ``DATA_UPLOAD_MAX_MEMORY_SIZE``."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is None:  # no limit configured: Django never raises then, but say something sensible
        return error_body("request.too_large", "คำขอมีขนาดใหญ่เกินกำหนด", "The request is too large")
    mb = _megabytes(limit)
    return error_body(
        "request.too_large",
        f"ข้อมูลในคำขอมีขนาดใหญ่เกิน {mb} MB (ไม่นับไฟล์แนบ)",
        f"The request data is larger than {mb} MB (uploaded files not counted)",
    )


def refused_request_body(exc: Exception) -> tuple[int, dict[str, object]]:
    """The status and body for what Django refuses while reading a request (``SuspiciousOperation``,
    ``BadRequest``, ``MultiPartParserError``)."""
    if isinstance(exc, RequestDataTooBig):
        return 413, too_large_body()
    if isinstance(exc, TooManyFieldsSent):
        n = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        return 400, error_body(
            "request.too_many_fields", f"คำขอมีช่องข้อมูลเกิน {n} ช่อง (ในคำค้นหรือแบบฟอร์ม)",
            f"The request has more than {n} fields (query string or form)",
        )
    if isinstance(exc, TooManyFilesSent):
        n = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        return 400, error_body(
            "request.too_many_files", f"คำขอมีไฟล์แนบเกิน {n} ไฟล์", f"The request has more than {n} files",
        )
    return 400, error_body(
        "request.malformed", "คำขอไม่ถูกต้อง เช่น JSON หรือแบบฟอร์มผิดรูปแบบ",
        "Malformed request, e.g. invalid JSON or form data",
    )


def status_of(exc: SarabanError) -> int:
    """The HTTP status of a domain refusal: the error class carries it (``SarabanError.http_status``)."""
    return exc.http_status


def install_error_handlers(api: NinjaAPI) -> None:
    """Register the handlers that turn every exception into the one JSON error shape."""

    def on_saraban_error(request: HttpRequest, exc: SarabanError) -> HttpResponse:
        return _json(api, request, status_of(exc), exc.as_dict())

    def on_request_invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        problems = [problem_from_pydantic(e) for e in exc.errors]
        return _json(api, request, 400, ValidationFailed(problems).as_dict())

    def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = _json(api, request, 401, error_body(
            "auth.required", "ต้องยืนยันตัวตนก่อน (โทเคน API หรือเข้าสู่ระบบ)",
            "Authentication required (an API token or a signed-in session)",
        ))
        response["WWW-Authenticate"] = "Bearer"
        return response

    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        status = exc.status_code
        if status == 400:
            body = error_body(
                "request.malformed", "คำขอไม่ถูกต้อง เช่น JSON ผิดรูปแบบ", "Malformed request, e.g. invalid JSON",
            )
        elif status == 403:
            body = error_body("forbidden", "ไม่มีสิทธิ์ทำรายการนี้", "Forbidden")
        elif status == 404:
            body = NotFound().as_dict()
        else:
            body = error_body(f"http.{status}", "ไม่สามารถทำรายการได้", "The request could not be handled")
        return _json(api, request, status, body)

    def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return _json(api, request, 404, NotFound().as_dict())

    def on_refused_request(request: HttpRequest, exc: Exception) -> HttpResponse:
        # Django's own refusals while reading the request (body too large, too many fields...).
        # Logged like Django logs them (django.security.<name>), without the request's data.
        logging.getLogger(f"django.security.{type(exc).__name__}").warning(
            "API request refused on %s %s: %s", request.method, request.path, exc,
        )
        status, body = refused_request_body(exc)
        return _json(api, request, status, body)

    def on_unstorable_value(request: HttpRequest, exc: Exception) -> HttpResponse:
        # A value beyond what the database can hold (an integer over 64 bits: OverflowError from the
        # driver; NUL in text or a number out of range on PostgreSQL: DataError). The schemas bound
        # ids and offsets already; this is the net under every other input. Logged with the
        # traceback so that a missing bound can be found, and answered as the client's mistake.
        logger.warning("API value out of range on %s %s", request.method, request.path, exc_info=exc)
        return _json(api, request, 400, error_body(
            "request.out_of_range", "ค่าที่ส่งมาเกินขอบเขตที่ระบบจัดเก็บได้ (เช่น ตัวเลขใหญ่เกินไป หรือมีอักขระ NUL)",
            "A value is beyond what the system can store (e.g. a number too large, or a NUL character)",
        ))

    def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        # The traceback goes to the log (never the request body: it may hold a password).
        logger.exception("API error on %s %s", request.method, request.path)
        return _json(api, request, 500, error_body(
            "server_error", "ระบบขัดข้อง โปรดลองใหม่อีกครั้งหรือแจ้งผู้ดูแลระบบ",
            "Something went wrong on the server; try again or tell the administrator",
        ))

    api.add_exception_handler(SarabanError, on_saraban_error)  # type: ignore[arg-type]
    api.add_exception_handler(NinjaValidationError, on_request_invalid)  # type: ignore[arg-type]
    api.add_exception_handler(AuthenticationError, on_unauthenticated)  # type: ignore[arg-type]
    api.add_exception_handler(HttpError, on_http_error)  # type: ignore[arg-type]
    api.add_exception_handler(Http404, on_not_found)  # type: ignore[arg-type]
    for refusal in (SuspiciousOperation, BadRequest, MultiPartParserError):
        api.add_exception_handler(refusal, on_refused_request)  # type: ignore[arg-type]
    for unstorable in (OverflowError, DataError):
        api.add_exception_handler(unstorable, on_unstorable_value)  # type: ignore[arg-type]
    api.add_exception_handler(Exception, on_unexpected)  # type: ignore[arg-type]
