"""An incoming letter's files and their OCR: the progress card, the searchable copies, reading again.

The letter itself is file 0 and its enclosures are 1, 2, …; each is served only to someone who may
open the letter (``visible_incoming``: another organisation's letter is a 404). A scan's searchable
copy (PDF/A with a text layer) is offered once OCR has read it; the original is always kept and served.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from saraban.core.errors import SarabanError
from saraban.documents.models import StoredFile
from saraban.documents.services import FileGone, read_file
from saraban.inbox.models import IncomingLetter
from saraban.inbox.permissions import can_register_paper
from saraban.inbox.selectors import incoming_for
from saraban.ocr.models import ScanReading
from saraban.ocr.selectors import readings_of, still_running
from saraban.ocr.services import read_again
from saraban.web.i18n import text

from . import errors
from .letters import person_of


@dataclass(frozen=True)
class LetterFile:
    """One file of an incoming letter as the page lists it, with its OCR if it was asked for."""

    index: int  # 0: the letter; 1…: its enclosures in order
    title: str
    sha256: str
    reading: ScanReading | None

    @property
    def percent(self) -> int:
        """How far the reading has got, in per cent of its pages."""
        if self.reading is None or not self.reading.pages:
            return 0
        return min(100, 100 * self.reading.pages_done // self.reading.pages)


def letter_files(incoming: IncomingLetter) -> list[LetterFile]:
    """The letter's original and its enclosures (the e-mail an e-mailed letter came in is not one).

    An enclosure listed without a file (sent on paper) has an empty ``sha256``.
    """
    named = [("", incoming.original_id)] + [
        (str(e.get("title") or e.get("filename") or ""), str(e.get("sha256") or "")) for e in incoming.enclosures
        if e.get("filename") != "original.eml"
    ]
    readings = readings_of(sha for _, sha in named)
    return [LetterFile(i, title, sha, readings.get(sha)) for i, (title, sha) in enumerate(named)]


def scans_context(incoming: IncomingLetter, request: HttpRequest) -> dict[str, Any]:
    """What the OCR card needs: the files that have a reading, whether to keep polling, who may retry."""
    files = letter_files(incoming)
    scans = [f for f in files if f.reading is not None]
    return {
        "incoming": incoming, "files": files, "scans": scans,
        "scans_running": any(f.reading is not None and still_running(f.reading) for f in scans),
        "may_read_again": can_register_paper(person_of(request), incoming.organisation) is None,
    }


def visible_incoming(request: HttpRequest, pk: int) -> IncomingLetter:
    """The incoming letter ``pk`` if the user may open it; 404 otherwise."""
    incoming = incoming_for(person_of(request), pk)
    if incoming is None:
        raise Http404("no such letter")
    return incoming


def _file(incoming: IncomingLetter, index: int) -> LetterFile:
    for found in letter_files(incoming):
        if found.index == index and found.sha256:
            return found
    raise Http404("no such file")


@require_GET
@login_required
def incoming_scans(request: HttpRequest, pk: int) -> HttpResponse:
    """The OCR card alone (the page polls it while a scan is being read)."""
    incoming = visible_incoming(request, pk)
    return render(request, "web/inbox/_scans.html", scans_context(incoming, request))


@require_GET
@login_required
def incoming_file(request: HttpRequest, pk: int, index: int) -> HttpResponse:
    """File ``index`` of the letter: ``?copy=searchable`` (its OCR copy, once read) or the file as it came."""
    incoming = visible_incoming(request, pk)
    try:
        return _file_response(request, incoming, _file(incoming, index))
    except FileGone as exc:  # destroyed under the Regulation
        return errors.file_gone(request, exc, back=f"/inbox/{incoming.pk}/")


def _file_response(request: HttpRequest, incoming: IncomingLetter, found: LetterFile) -> HttpResponse:
    index = found.index
    if request.GET.get("copy") == "searchable":
        if found.reading is None or found.reading.searchable_id is None:
            raise Http404("not read yet")
        data, content_type = read_file(found.reading.searchable_id), "application/pdf"
        name = f"searchable-{incoming.pk}-{index}.pdf"
    else:
        stored = StoredFile.objects.get(pk=found.sha256)
        data, content_type = read_file(found.sha256), stored.content_type or "application/octet-stream"
        name = f"file-{incoming.pk}-{index}"
    response = HttpResponse(data, content_type=content_type)
    # Shown inline only when it is a PDF or an image (the browser's own viewers); anything else is saved.
    inline = content_type == "application/pdf" or content_type.startswith("image/")
    response["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["X-Frame-Options"] = "SAMEORIGIN"
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@login_required
def incoming_read_again(request: HttpRequest, pk: int, index: int) -> HttpResponse:
    """Read a scan again after its OCR failed (registry clerks of the letter's organisation)."""
    incoming = visible_incoming(request, pk)
    found = _file(incoming, index)
    if can_register_paper(person_of(request), incoming.organisation) is not None or found.reading is None:
        raise Http404("no such reading")
    try:
        read_again(found.sha256)
    except SarabanError as exc:
        messages.error(request, errors.message_of(request, exc))
    else:
        messages.success(request, text(request, "ส่งไปอ่านข้อความอีกครั้งแล้ว", "Queued to be read again"))
    return HttpResponseRedirect(f"/inbox/{pk}/#scans")
