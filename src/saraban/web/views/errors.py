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
