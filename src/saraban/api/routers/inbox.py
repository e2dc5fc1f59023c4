"""Incoming letters: the inbox, registering (electronic and paper), endorsing, acting, closing, returning."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import File, Form, Query, Router, Status
from ninja.decorators import decorate_view
from ninja.files import UploadedFile

from saraban.access.policy import has_role_within, today
from saraban.core.errors import FieldProblem, ReferenceNotFound, ValidationFailed
from saraban.directory.models import Organisation, Role
from saraban.directory.selectors import unit_ids_under
from saraban.documents.services import FileTooLarge, read_file
from saraban.documents.uploads import upload_refusal
from saraban.inbox.models import Assignment, IncomingStatus
from saraban.inbox.selectors import inbox, incoming_visible_to
from saraban.inbox.services import (
    AssignTo,
    PaperLetter,
    close,
    complete_assignment,
    endorse,
    mark_opened,
    register,
    register_paper,
    return_to_sender,
)

from ..auth import person_of
from ..errors import NotFound
from ..schemas import (
    ERRORS,
    AssignmentOut,
    AssignToUnit,
    CompleteIn,
    EndorseIn,
    Id,
    IncomingDetail,
    IncomingPage,
    Paging,
    PaperIn,
    ReasonIn,
    assignment_out,
    incoming_detail,
    incoming_summary,
    page,
)
from ..uploads import limited_upload
from . import colleague, default_organisation, file_response, my_organisation, visible_incoming

router = Router(tags=["inbox"])
SCAN_TYPES = {"application/pdf", "image/png", "image/jpeg"}


@router.get("/inbox", response={200: IncomingPage, **ERRORS}, summary="List incoming letters")
def list_incoming(
    request: HttpRequest, paging: Query[Paging], status: IncomingStatus | None = None, organisation: Id | None = None,
) -> dict[str, Any]:
    """The inbox: urgent first, then by due date, then newest; filter by status or organisation."""
    person = person_of(request)
    org_ids = None if organisation is None else unit_ids_under({my_organisation(person, organisation).pk})
    count, items = page(inbox(person, status=status or "", organisation_ids=org_ids), paging)
    day = today()
    return {"count": count, "limit": paging.limit, "offset": paging.offset,
            "items": [incoming_summary(x, day) for x in items]}


@router.get("/inbox/{int:incoming_id}", response={200: IncomingDetail, **ERRORS}, summary="Get an incoming letter")
def get_incoming(request: HttpRequest, incoming_id: Id) -> dict[str, Any]:
    """An incoming letter with its endorsements; a clerk's first look tells the sender it was received."""
    person = person_of(request)
    incoming = visible_incoming(person, incoming_id)
    mark_opened(incoming, actor=person)
    return incoming_detail(incoming, today())


@router.get("/inbox/{int:incoming_id}/original.pdf", response={200: None, **ERRORS}, summary="Original PDF")
def original_pdf(request: HttpRequest, incoming_id: Id) -> HttpResponse:
    """The letter exactly as it was delivered (or scanned)."""
    incoming = visible_incoming(person_of(request), incoming_id)
    return file_response(read_file(incoming.original_id), "application/pdf", f"incoming-{incoming.pk}.pdf")


@router.get("/inbox/{int:incoming_id}/stamped.pdf", response={200: None, **ERRORS}, summary="Stamped copy PDF")
def stamped_pdf(request: HttpRequest, incoming_id: Id) -> HttpResponse:
    """The registered copy with the receipt stamp (404 until the letter is registered)."""
    incoming = visible_incoming(person_of(request), incoming_id)
    if not incoming.stamped_id:
        raise NotFound()
    return file_response(
        read_file(incoming.stamped_id), "application/pdf", f"incoming-{incoming.pk}-stamped.pdf"
    )


@router.post("/inbox/{int:incoming_id}/register", response={200: IncomingDetail, **ERRORS}, summary="Register")
def register_incoming(request: HttpRequest, incoming_id: Id) -> dict[str, Any]:
    """ลงรับ: give the letter its receive number and stamp a registered copy."""
    person = person_of(request)
    return incoming_detail(register(visible_incoming(person, incoming_id), actor=person), today())


@router.post("/inbox/paper", response={201: IncomingDetail, **ERRORS}, summary="Register a paper letter")
@decorate_view(limited_upload("scans"))
def register_paper_letter(
    request: HttpRequest, payload: Form[PaperIn], scans: File[list[UploadedFile]]
) -> Status[dict[str, Any]]:
    """Register a paper letter from its scan (multipart: the typed fields, and ``scans``: one PDF or images).

    The scan files together are at most ``SARABAN_MAX_UPLOAD_MB`` (50 MB): a larger upload is answered
    413 while it streams, before it is read whole. A file that is not a PDF that can be stamped (a
    ZIP behind a PDF header, a decompression bomb, a damaged file) is 400. Nothing is kept of a
    refused upload: no file, no letter, no number.
    """
    person = person_of(request)
    organisation = default_organisation(person, payload.organisation_id)
    too_large = upload_refusal(request)
    if too_large is not None:
        return Status(413, too_large.as_dict())
    files = []
    for i, upload in enumerate(scans):
        kind = (upload.content_type or "").split(";")[0].strip().lower()
        if kind not in SCAN_TYPES:
            raise ValidationFailed([FieldProblem(
                f"scans.{i}", "format", "ไฟล์สแกนต้องเป็น PDF หรือรูปภาพ PNG/JPEG",
                "A scan must be a PDF or a PNG/JPEG image",
            )])
        files.append((upload.read(), kind))
    letter = PaperLetter(
        sender_name=payload.sender_name, letter_number=payload.letter_number, letter_date=payload.letter_date,
        subject=payload.subject, addressed_to=payload.addressed_to, urgency=payload.urgency,
        secrecy=payload.secrecy,
    )
    try:
        incoming = register_paper(organisation, letter, scans=files, actor=person)
    except FileTooLarge as exc:
        return Status(413, exc.as_dict())
    return Status(201, incoming_detail(incoming, today()))


def _assign(person: Any, incoming_org: Organisation, payload: EndorseIn) -> list[AssignTo]:
    targets = []
    units = unit_ids_under({incoming_org.pk})
    for i, a in enumerate(payload.assign):
        unit = assignee = None
        if isinstance(a, AssignToUnit):
            if a.unit_id not in units:
                raise ReferenceNotFound([FieldProblem(
                    f"assign.{i}.unit_id", "outside", "มอบได้เฉพาะหน่วยงานภายในของผู้รับ",
                    "Assign only to units of the receiver",
                )])
            unit = Organisation.objects.get(pk=a.unit_id)
        else:
            assignee = colleague(person, a.person_id, f"assign.{i}.person_id")
            if not has_role_within(assignee, incoming_org, *Role):
                raise ReferenceNotFound([FieldProblem(
                    f"assign.{i}.person_id", "outside", "มอบได้เฉพาะบุคลากรของหน่วยงาน",
                    "Assign only to people of the receiver",
                )])
        targets.append(AssignTo(unit=unit, person=assignee, due_date=a.due_date))
    return targets


@router.post("/inbox/{int:incoming_id}/endorse", response={200: IncomingDetail, **ERRORS}, summary="Endorse and assign")
def endorse_incoming(request: HttpRequest, incoming_id: Id, payload: EndorseIn) -> dict[str, Any]:
    """เกษียนหนังสือ: the executive's instruction, assigning units or people with optional due dates."""
    person = person_of(request)
    incoming = visible_incoming(person, incoming_id)
    endorse(incoming, actor=person, instruction=payload.instruction, assign=_assign(person, incoming.organisation,
                                                                                    payload))
    return incoming_detail(incoming, today())


@router.post("/inbox/{int:incoming_id}/close", response={200: IncomingDetail, **ERRORS}, summary="Close")
def close_incoming(request: HttpRequest, incoming_id: Id) -> dict[str, Any]:
    """ปิดเรื่อง: nothing more is to be done (every assignment done)."""
    person = person_of(request)
    return incoming_detail(close(visible_incoming(person, incoming_id), actor=person), today())


@router.post("/inbox/{int:incoming_id}/return", response={200: IncomingDetail, **ERRORS}, summary="Return to sender")
def return_incoming(request: HttpRequest, incoming_id: Id, payload: ReasonIn) -> dict[str, Any]:
    """ส่งคืน: refuse a delivered letter with a reason; the sender sees it."""
    person = person_of(request)
    incoming = visible_incoming(person, incoming_id)
    return incoming_detail(return_to_sender(incoming, actor=person, reason=payload.reason), today())


@router.post(
    "/assignments/{int:assignment_id}/complete", response={200: AssignmentOut, **ERRORS},
    summary="Complete an assignment",
)
def complete(request: HttpRequest, assignment_id: Id, payload: CompleteIn) -> dict[str, Any]:
    """The assigned person or unit reports what was done. An assignment of a letter the caller may not
    see is not found (404); one of a letter they see but was not given to them is refused (403)."""
    person = person_of(request)
    assignment = Assignment.objects.filter(pk=assignment_id, incoming__in=incoming_visible_to(person)).first()
    if assignment is None:
        raise NotFound()
    done = complete_assignment(assignment, actor=person, note=payload.note)
    done = Assignment.objects.select_related("unit", "assignee").get(pk=done.pk)
    return assignment_out(done, today())
