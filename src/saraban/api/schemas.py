"""The API's request and response schemas, and the functions that fill them from the models.

The content of a letter is ``saraban.regulation.content.LetterContent`` itself: the same JSON
as ``saraban render LETTER.json`` and the letter editor.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from django.db.models import QuerySet
from ninja import Field, Schema
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, create_model
from pydantic_core import PydanticCustomError

from saraban.correspondence.models import Letter
from saraban.directory.models import Organisation, Person
from saraban.exchange.dispatches import status_summary
from saraban.inbox.models import Assignment, Endorsement, IncomingLetter
from saraban.registers.models import RegisterEntry
from saraban.regulation.content import LetterContent
from saraban.regulation.kinds import Secrecy, Urgency

MAX_LIMIT = 200
MAX_REASON = 500  # a register line's ยกเลิก reason (RegisterEntry.cancelled_reason) and a return's
MAX_NOTE = 5000  # an instruction, a comment, a note of what was done

#: The largest integer the databases store: SQLite's INTEGER and PostgreSQL's bigint are 64-bit signed.
#: Every id and offset the API accepts is held to it, so no value reaches the driver that it cannot
#: bind (``OverflowError``) or the database cannot compare.
DB_INT_MAX = 2**63 - 1

#: An object's id, in a path, a query or a body: 1 to 2^63 − 1 (a larger one could not exist).
#: Out of that range the answer is the usual 400 with a field problem, and the OpenAPI document says so.
Id = Annotated[int, Field(ge=1, le=DB_INT_MAX)]


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise PydanticCustomError("string_nul", "must not contain the NUL character (U+0000)")
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("string_blank", "must not be empty or only spaces")
    return value


#: The characters ``str.strip`` removes (``str.isspace``), as a regular expression class's content,
#: written out so that Python and ECMAScript read the published patterns alike.
_SPACES = (
    "\\t\\n\\u000b\\u000c\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680"
    "\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
)
#: Published patterns: no NUL; and no NUL with at least one character that is not a space.
NO_NUL = "^[^\\u0000]*$"
SAYS_SOMETHING = f"^[^\\u0000]*[^\\u0000{_SPACES}][^\\u0000]*$"

#: Free text from a query or a body. NUL (U+0000) is refused as a field problem: PostgreSQL cannot
#: store or compare it (SQLite can), so the answer is the same 400 on both databases.
Text = Annotated[str, AfterValidator(_no_nul), Field(json_schema_extra={"pattern": NO_NUL})]

#: Text that must say something: not empty, not only spaces, no NUL (the services refuse blank text).
RequiredText = Annotated[str, AfterValidator(_no_nul), AfterValidator(_not_blank)]


def required_text(max_length: int, description: str | None = None) -> Any:
    """The ``Field`` of a ``RequiredText`` of at most ``max_length`` characters (its column's or the rule's)."""
    return Field(..., min_length=1, max_length=max_length, description=description,
                 json_schema_extra={"pattern": SAYS_SOMETHING})


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: object) -> object:
    """Only ``YYYY-MM-DD`` (or a date): pydantic alone would also read ``0`` or ``1700000000`` as a date."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    raise PydanticCustomError("date_parsing", "must be a date written YYYY-MM-DD")


#: A calendar date (ค.ศ.) written ``YYYY-MM-DD``, in a query or a body: nothing else is read as one.
IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]


class ProblemOut(Schema):
    """One problem with one field."""

    field: str
    code: str
    message_th: str
    message_en: str


class Error(Schema):
    """Every error response."""

    code: str
    message_th: str
    message_en: str
    problems: list[ProblemOut] = []


# 413: a request body over Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB), on any route; 415: a body of a
# media type the operation does not read (``media_types.py``); 422: well-formed input a rule refuses.
ERRORS: dict[int, type[Schema]] = {
    400: Error, 401: Error, 403: Error, 404: Error, 409: Error, 413: Error, 415: Error, 422: Error,
}


class Paging(Schema):
    """``limit`` (1–200) and ``offset`` of a list."""

    limit: int = Field(50, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=DB_INT_MAX)


def page(items: QuerySet[Any], paging: Paging) -> tuple[int, list[Any]]:
    """The total count and the requested slice of ``items``."""
    return items.count(), list(items[paging.offset : paging.offset + paging.limit])


# ---- organisations and people -------------------------------------------------------------------


class OrganisationBrief(Schema):
    """The public minimum about an organisation (for choosing recipients)."""

    id: int
    identifier: str
    name_th: str
    name_en: str
    letter_code: str
    kind: str
    parent_id: int | None


class OrganisationOut(OrganisationBrief):
    """An organisation the caller belongs to, in full."""

    address: str
    email: str
    phone: str
    province_id: str | None
    category: str
    thai_digits: bool
    is_active: bool


class OrganisationPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[OrganisationBrief]


class RoleOut(Schema):
    organisation_id: int
    organisation_name_th: str
    role: str
    position_title: str


class PersonOut(Schema):
    """A colleague, with the roles they hold in the caller's organisations."""

    id: int
    name_th: str
    name_en: str
    roles: list[RoleOut]


class PersonPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[PersonOut]


class MeOut(Schema):
    """The caller."""

    id: int
    username: str
    name_th: str
    name_en: str
    roles: list[RoleOut]


def organisation_brief(org: Organisation) -> dict[str, Any]:
    """The public fields of an organisation."""
    return {
        "id": org.pk, "identifier": org.identifier, "name_th": org.name_th, "name_en": org.name_en,
        "letter_code": org.letter_code, "kind": org.kind, "parent_id": org.parent_id,
    }


def organisation_full(org: Organisation) -> dict[str, Any]:
    """Every directory field of an organisation."""
    return {
        **organisation_brief(org), "address": org.address, "email": org.email, "phone": org.phone,
        "province_id": org.province_id, "category": org.category, "thai_digits": org.thai_digits,
        "is_active": org.is_active,
    }


# ---- letters ------------------------------------------------------------------------------------

Box = Literal["drafts", "review", "sign", "number", "outbox"]


class LetterCreate(Schema):
    """A new draft: its content, and the organisation (and unit in charge) that writes it."""

    organisation_id: Id | None = Field(
        None, description="the writing organisation; may be left out by a person of one organisation"
    )
    owner_unit_id: Id | None = None
    content: LetterContent


def _changes_of(model: type[BaseModel], name: str, *, without: tuple[str, ...]) -> type[BaseModel]:
    """A model of any of ``model``'s fields (each optional, as it is typed there), no other, none of ``without``."""
    fields: dict[str, Any] = {
        field: (info.annotation, Field(None, description=info.description))
        for field, info in model.model_fields.items() if field not in without
    }
    changes: type[BaseModel] = create_model(
        name, __config__=ConfigDict(extra="forbid", str_strip_whitespace=True), __doc__=model.__doc__, **fields)
    return changes


#: The fields of a draft's content to change: any of ``LetterContent``'s but its number and date, which the
#: register sets when the letter is numbered. A nested object (``issuer``, ``signer``…) is replaced whole.
LetterContentChanges = _changes_of(LetterContent, "LetterContentChanges", without=("number", "date"))


class LetterUpdate(Schema):
    """Changed fields of the draft's content (a partial ``LetterContent``); number and date are not set here."""

    content: LetterContentChanges  # type: ignore[valid-type]  # a model made at import


class LetterSummary(Schema):
    id: int
    organisation_id: int
    type: str
    subtype: str
    subject: str
    number: str
    date: dt.date | None
    status: str
    urgency: str
    secrecy: str
    created_at: dt.datetime
    updated_at: dt.datetime


class LetterPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[LetterSummary]


class RecipientOut(Schema):
    organisation_id: int
    name_th: str
    kind: str


class ReviewStepOut(Schema):
    round: int
    position: int
    reviewer_id: int
    reviewer_name: str
    status: str
    comment: str
    decided_at: dt.datetime | None


class LetterSignatureOut(Schema):
    """One signature of a letter (typed name or PAdES); ``SignatureReport`` is the verifier's view of one."""

    signer_id: int
    signer_name: str
    position_title: str
    acting_line: str
    method: str
    level: str = ""  # PAdES: B-B, B-T, B-LT or B-LTA
    signed_at: dt.datetime
    pdf_sha256: str


class DispatchOut(Schema):
    recipient_id: int
    recipient_name: str
    kind: str
    status: str
    status_at: dt.datetime
    receive_number: str
    returned_reason: str


class LetterDetail(LetterSummary):
    """A letter with everything about it."""

    content: LetterContent
    owner_unit_id: int | None
    created_by_id: int
    signer_id: int | None
    supersedes_id: int | None
    returned_comment: str
    pdf_sha256: str | None
    recipients: list[RecipientOut]
    review_steps: list[ReviewStepOut]
    signatures: list[LetterSignatureOut]
    dispatches: list[DispatchOut]
    dispatch_summary: str


def letter_summary(letter: Letter) -> dict[str, Any]:
    """The list fields of a letter."""
    return {
        "id": letter.pk, "organisation_id": letter.organisation_id, "type": letter.type,
        "subtype": letter.subtype, "subject": letter.subject, "number": letter.number, "date": letter.date,
        "status": letter.status, "urgency": letter.urgency, "secrecy": letter.secrecy,
        "created_at": letter.created_at, "updated_at": letter.updated_at,
    }


def letter_detail(letter: Letter) -> dict[str, Any]:
    """A letter with its content, recipients, review steps, signatures and dispatches."""
    letter = Letter.objects.get(pk=letter.pk)  # as it stands after the service's changes
    return {
        **letter_summary(letter),
        "content": letter.letter_content,
        "owner_unit_id": letter.owner_unit_id,
        "created_by_id": letter.created_by_id,
        "signer_id": letter.signer_id,
        "supersedes_id": letter.supersedes_id,
        "returned_comment": letter.returned_comment,
        "pdf_sha256": letter.pdf_id,
        "recipients": [
            {"organisation_id": r.organisation_id, "name_th": r.organisation.name_th, "kind": r.kind}
            for r in letter.recipients.select_related("organisation")
        ],
        "review_steps": [
            {
                "round": s.round, "position": s.position, "reviewer_id": s.reviewer_id,
                "reviewer_name": s.reviewer.display_name, "status": s.status, "comment": s.comment,
                "decided_at": s.decided_at,
            }
            for s in letter.review_steps.select_related("reviewer")
        ],
        "signatures": [
            {
                "signer_id": s.signer_id, "signer_name": s.signer.display_name, "position_title": s.position_title,
                "acting_line": s.acting_line, "method": s.method, "level": s.level, "signed_at": s.signed_at,
                "pdf_sha256": s.pdf_sha256,
            }
            for s in letter.signatures.select_related("signer")
        ],
        "dispatches": [
            {
                "recipient_id": d.recipient_id, "recipient_name": d.recipient.name_th, "kind": d.kind,
                "status": d.status, "status_at": d.status_at, "receive_number": d.receive_number,
                "returned_reason": d.returned_reason,
            }
            for d in letter.dispatches.select_related("recipient").order_by("id")
        ],
        "dispatch_summary": status_summary(letter),
    }


class RecipientsIn(Schema):
    """The organisations a draft goes to, and copies to (``to`` must not be empty)."""

    to: list[Id] = Field(..., min_length=1)
    cc: list[Id] = []


class SubmitIn(Schema):
    """Reviewers in order (may be empty) and the signer (not for a stamped letter)."""

    reviewer_ids: list[Id] = []
    signer_id: Id | None = None


class CommentIn(Schema):
    comment: Text = Field("", max_length=MAX_NOTE)


class ReturnIn(Schema):
    comment: RequiredText = required_text(MAX_NOTE, "what to change")


class SignIn(Schema):
    """How to sign: ``certificate_id`` of a registered certificate (PAdES; ``password`` is then the
    PKCS#12 password or the token's PIN, or for the organisation's seal the sign-in password), or none
    for the typed-name signature (``password`` is the sign-in password). Never stored or echoed."""

    password: str = Field(..., repr=False)
    certificate_id: Id | None = None


class ReasonIn(Schema):
    reason: RequiredText = required_text(MAX_REASON)


class SignedOut(Schema):
    letter: LetterDetail
    pdf_sha256: str


# ---- inbox --------------------------------------------------------------------------------------


class IncomingSummary(Schema):
    id: int
    organisation_id: int
    source: str
    sender_name: str
    letter_number: str
    letter_date: dt.date | None
    subject: str
    urgency: str
    secrecy: str
    status: str
    delivered_at: dt.datetime
    receive_number: int | None
    due_date: dt.date | None
    overdue: bool


class IncomingPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[IncomingSummary]


class AssignmentOut(Schema):
    id: int
    incoming_id: int
    unit_id: int | None
    unit_name: str
    assignee_id: int | None
    assignee_name: str
    due_date: dt.date | None
    overdue: bool
    status: str
    done_at: dt.datetime | None
    note: str


class EndorsementOut(Schema):
    id: int
    author_id: int
    author_name: str
    position_title: str
    acting_line: str
    instruction: str
    created_at: dt.datetime
    assignments: list[AssignmentOut]


class IncomingDetail(IncomingSummary):
    addressed_to: str
    sender_organisation_id: int | None
    original_sha256: str
    stamped_sha256: str | None
    enclosures: list[dict[str, Any]]
    registered_at: dt.datetime | None
    returned_reason: str
    endorsements: list[EndorsementOut]


class AssignToUnit(Schema):
    """An assignment to a unit of the receiving organisation, with an optional due date (today or later)."""

    model_config = ConfigDict(extra="forbid")

    unit_id: Id
    due_date: IsoDate | None = None


class AssignToPerson(Schema):
    """An assignment to a person of the receiving organisation, with an optional due date (today or later)."""

    model_config = ConfigDict(extra="forbid")

    person_id: Id
    due_date: IsoDate | None = None


#: One assignment: a unit or a person, exactly one of them.
AssignIn = AssignToUnit | AssignToPerson


class EndorseIn(Schema):
    instruction: RequiredText = required_text(MAX_NOTE, "ข้อสั่งการ (เกษียนหนังสือ)")
    assign: list[AssignIn] = Field([], max_length=50)


class CompleteIn(Schema):
    note: RequiredText = required_text(MAX_NOTE, "what was done")


def _overdue(due: dt.date | None, today: dt.date, open_: bool = True) -> bool:
    return bool(open_ and due is not None and due < today)


def incoming_summary(incoming: IncomingLetter, today: dt.date) -> dict[str, Any]:
    """The list fields of an incoming letter."""
    return {
        "id": incoming.pk, "organisation_id": incoming.organisation_id, "source": incoming.source,
        "sender_name": incoming.sender_name, "letter_number": incoming.letter_number,
        "letter_date": incoming.letter_date, "subject": incoming.subject, "urgency": incoming.urgency,
        "secrecy": incoming.secrecy, "status": incoming.status, "delivered_at": incoming.delivered_at,
        "receive_number": incoming.receive_number, "due_date": incoming.due_date,
        "overdue": _overdue(incoming.due_date, today, incoming.status in ("registered", "assigned")),
    }


def assignment_out(a: Assignment, today: dt.date) -> dict[str, Any]:
    """One assignment."""
    return {
        "id": a.pk, "incoming_id": a.incoming_id, "unit_id": a.unit_id,
        "unit_name": a.unit.name_th if a.unit else "", "assignee_id": a.assignee_id,
        "assignee_name": a.assignee.display_name if a.assignee else "", "due_date": a.due_date,
        "overdue": _overdue(a.due_date, today, a.status == "open"), "status": a.status, "done_at": a.done_at,
        "note": a.note,
    }


def _endorsement_out(e: Endorsement, today: dt.date) -> dict[str, Any]:
    return {
        "id": e.pk, "author_id": e.author_id, "author_name": e.author.display_name,
        "position_title": e.position_title, "acting_line": e.acting_line, "instruction": e.instruction,
        "created_at": e.created_at,
        "assignments": [
            assignment_out(a, today) for a in e.assignments.select_related("unit", "assignee").order_by("id")
        ],
    }


def incoming_detail(incoming: IncomingLetter, today: dt.date) -> dict[str, Any]:
    """An incoming letter with its files' digests and its endorsements."""
    incoming = IncomingLetter.objects.get(pk=incoming.pk)
    return {
        **incoming_summary(incoming, today),
        "addressed_to": incoming.addressed_to, "sender_organisation_id": incoming.sender_organisation_id,
        "original_sha256": incoming.original_id, "stamped_sha256": incoming.stamped_id,
        "enclosures": incoming.enclosures, "registered_at": incoming.registered_at,
        "returned_reason": incoming.returned_reason,
        "endorsements": [
            _endorsement_out(e, today) for e in incoming.endorsements.select_related("author").order_by("id")
        ],
    }


class PaperIn(Schema):
    """What a clerk types from a paper letter (sent as multipart form fields with the scan files)."""

    organisation_id: Id | None = None
    sender_name: RequiredText = required_text(500)
    letter_number: Text = Field("", max_length=64)
    letter_date: IsoDate | None = None
    subject: RequiredText = required_text(2000)
    addressed_to: Text = Field("", max_length=1000)
    urgency: Urgency = Urgency.NORMAL
    secrecy: Secrecy = Secrecy.NORMAL


# ---- work queue ---------------------------------------------------------------------------------


class WorkQueue(Schema):
    """What waits for the caller: counts per queue and the first items of each."""

    counts: dict[str, int]
    drafts: list[LetterSummary]
    review: list[LetterSummary]
    sign: list[LetterSummary]
    number: list[LetterSummary]
    receive: list[IncomingSummary]  # delivered, to register
    endorse: list[IncomingSummary]
    assignments: list[AssignmentOut]


# ---- registers ----------------------------------------------------------------------------------


class EntryOut(Schema):
    id: int
    organisation_id: int
    kind: str
    year: int
    number: int
    registered_at: dt.datetime
    letter_number: str
    letter_date: dt.date | None
    sender: str
    recipient: str
    subject: str
    action: str
    remarks: str
    status: str
    cancelled_reason: str
    letter_id: int | None
    redacted: bool = False  # a classified line: subject and parties hidden without a grant of its level


class EntryPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[EntryOut]


def entry_out(entry: RegisterEntry) -> dict[str, Any]:
    """One register line."""
    return {
        "id": entry.pk, "organisation_id": entry.book.organisation_id, "kind": entry.book.kind,
        "year": entry.book.year, "number": entry.number, "registered_at": entry.registered_at,
        "letter_number": entry.letter_number, "letter_date": entry.letter_date, "sender": entry.sender,
        "recipient": entry.recipient, "subject": entry.subject, "action": entry.action, "remarks": entry.remarks,
        "status": entry.status, "cancelled_reason": entry.cancelled_reason, "letter_id": entry.letter_id,
        "redacted": bool(getattr(entry, "redacted", False)),
    }


# ---- tokens -------------------------------------------------------------------------------------


class TokenIn(Schema):
    name: RequiredText = required_text(100)


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenCreated(TokenOut):
    """A new token: ``token`` is shown this once and cannot be retrieved again."""

    token: str


def person_roles(person: Person, organisation_ids: set[int] | None = None) -> list[dict[str, Any]]:
    """The current roles of ``person``, optionally only those in ``organisation_ids``."""
    from saraban.access.policy import today
    from saraban.directory.selectors import current_roles

    roles = current_roles(person, today()).order_by("organisation__name_th", "role")
    if organisation_ids is not None:
        roles = roles.filter(organisation_id__in=organisation_ids)
    return [
        {
            "organisation_id": r.organisation_id, "organisation_name_th": r.organisation.name_th, "role": r.role,
            "position_title": r.position_title,
        }
        for r in roles
    ]
