"""Turn a ``SarabanError`` into what the user sees: form errors next to fields, or a message.

Services refuse with a stable code and a Thai and an English message (and, for validation, one
problem per field). The pages show them in the language of the request, never as a traceback.
"""

from __future__ import annotations

from collections.abc import Mapping

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse

from saraban.core.errors import FieldProblem, SarabanError
from saraban.web.i18n import text


def message_of(request: HttpRequest, error: SarabanError | FieldProblem) -> str:
    """The error's message in the request's language."""
    return text(request, error.message_th, error.message_en)


def status_of(error: SarabanError) -> int:
    """The HTTP status that fits a refusal, as its class says: 400 invalid input, 403 not allowed, 404 not
    found, 409 wrong state, 413 too large."""
    return error.http_status


def field_for(problem: FieldProblem, form: forms.Form, aliases: Mapping[str, str] | None = None) -> str | None:
    """The form field a problem belongs to: by alias, by exact name, or by its first path segment."""
    aliases = aliases or {}
    path = problem.field
    candidates = [path, path.split(".")[0]]
    for candidate in candidates:
        name = aliases.get(candidate, candidate)
        if name in form.fields:
            return name
    for prefix, name in aliases.items():
        if path.startswith(prefix + ".") and name in form.fields:
            return name
    return None


def add_to_form(
    request: HttpRequest, form: forms.Form, error: SarabanError, aliases: Mapping[str, str] | None = None
) -> None:
    """Put each problem of ``error`` next to its field (or at the top of the form when it has none).

    Field paths of the services (``signer.name``, ``enclosures.0.title``) are mapped to form fields
    through ``aliases``; the general message goes to the top when no problem names a field.
    """
    for problem in error.problems:
        form.add_error(field_for(problem, form, aliases), message_of(request, problem))
    if not error.problems:
        form.add_error(None, message_of(request, error))


def to_messages(request: HttpRequest, error: SarabanError) -> None:
    """Show ``error`` (and each of its problems) as an error message at the top of the next page."""
    details = "; ".join(message_of(request, p) for p in error.problems)
    main = message_of(request, error)
    messages.error(request, f"{main}: {details}" if details else main)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 400 page for a request it refused while reading it, in Thai and English.

    A body larger than the upload limit is a 413 (too large), not a malformed request.
    """
    from django.core.exceptions import RequestDataTooBig

    if isinstance(exception, RequestDataTooBig):
        status, th, en = 413, "ข้อมูลที่ส่งมีขนาดใหญ่เกินกำหนด", "The data sent is larger than allowed"
    else:
        status, th, en = 400, "คำขอไม่ถูกต้อง", "The request is malformed"
    body = (f'<!doctype html><html lang="th"><meta charset="utf-8"><title>{status}</title>'
            f"<h1>{th}</h1><p>{en}</p></html>")
    return HttpResponse(body, status=status, content_type="text/html; charset=utf-8")


def file_gone(request: HttpRequest, error: SarabanError, *, back: str) -> HttpResponse:
    """The page for a file whose bytes are gone (a destroyed letter's PDF): 410, in the page's language."""
    from django.shortcuts import render

    return render(request, "web/forbidden.html", {
        "heading": text(request, "ไม่มีไฟล์นี้แล้ว", "This file is gone"), "reason": message_of(request, error),
        "back": back, "back_label": text(request, "กลับไปที่หนังสือ", "Back to the letter"),
    }, status=410)


def _api_error(status: int, code: str, th: str, en: str) -> HttpResponse:
    from django.http import JsonResponse

    return JsonResponse({"code": code, "message_th": th, "message_en": en, "problems": []}, status=status)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 404, in Thai and English: the site's page with its menu and a way back (JSON under /api/)."""
    th, en = "ไม่พบหน้าที่ขอ หรือท่านไม่มีสิทธิ์เปิดหน้านี้", "There is no such page, or you may not open it"
    if request.path.startswith("/api/"):
        return _api_error(404, "not_found", th, en)
    from django.shortcuts import render

    return render(request, "web/forbidden.html", {
        "heading": text(request, "ไม่พบหน้านี้", "Page not found"), "reason": text(request, th, en),
        "back": "/work/", "back_label": text(request, "กลับไปที่งานของฉัน", "Back to my work"),
    }, status=404)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 403, in Thai and English, with the menu and a way back (JSON under /api/)."""
    th, en = "ท่านไม่มีสิทธิ์ดำเนินการนี้", "You may not do this"
    if request.path.startswith("/api/"):
        return _api_error(403, "forbidden", th, en)
    from django.shortcuts import render

    return render(request, "web/forbidden.html", {
        "heading": text(request, "ไม่มีสิทธิ์", "Not allowed"), "reason": text(request, th, en),
        "back": "/work/", "back_label": text(request, "กลับไปที่งานของฉัน", "Back to my work"),
    }, status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's 500: a plain page in both languages that needs nothing that may have failed (no database,
    no templates), with the time to quote to the administrator."""
    import datetime as dt

    th, en = "ระบบขัดข้อง กรุณาลองใหม่อีกครั้ง หากยังไม่ได้ แจ้งผู้ดูแลระบบพร้อมเวลานี้", \
        "Something went wrong: try again; if it goes on, tell the administrator this time"
    if request.path.startswith("/api/"):
        return _api_error(500, "server_error", th, en)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    body = (f'<!doctype html><html lang="th"><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width, initial-scale=1"><title>500</title>'
            f'<body style="font-family:sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem">'
            f"<h1>ระบบขัดข้อง / Something went wrong</h1><p>{th}</p><p>{en}</p><p><code>{stamp}</code></p>"
            f'<p><a href="/work/">กลับไปที่งานของฉัน / Back to my work</a></p></body></html>')
    return HttpResponse(body, status=500, content_type="text/html; charset=utf-8")
