"""Render an official letter (``LetterContent``) as a Thai PDF/A document.

Every letter type of the Correspondence Regulation has its layout in ``templates/letter.typ``.
Python prepares a plain "view" of the letter (dates in the official Thai form, digits in the chosen
style, numbered lists, headings) and hands it to Typst as JSON through ``sys.inputs``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from saraban.core.thai import THAI_MONTHS, buddhist_year, format_thai_date
from saraban.regulation.content import LetterContent
from saraban.regulation.kinds import DigitStyle, LetterSubtype, LetterType

from .digits import numeral, printed_digits
from .engine import DEFAULT_PDF_STANDARD, compile_pdf, compile_pdf_with_query
from .fonts import sizes
from .printable import max_pages
from .textlayer import repair_text_layer

THAI_WEEKDAYS = ("จันทร์", "อังคาร", "พุธ", "พฤหัสบดี", "ศุกร์", "เสาร์", "อาทิตย์")

# The heading word printed before the issuer's name, per subtype: "คำสั่ง" + "เทศบาลนครนนทบุรี".
_HEADING_WORD = {
    LetterSubtype.ORDER: "คำสั่ง",
    LetterSubtype.REGULATION: "ระเบียบ",
    LetterSubtype.BYLAW: "ข้อบังคับ",
    LetterSubtype.ANNOUNCEMENT: "ประกาศ",
    LetterSubtype.STATEMENT: "แถลงการณ์",
    LetterSubtype.NEWS: "ข่าว",
}
# The words before the date at the end: "สั่ง ณ วันที่ ๒๖ พฤศจิกายน พ.ศ. ๒๕๖๙".
_DATED_PREFIX = {
    LetterSubtype.ORDER: "สั่ง ณ วันที่",
    LetterSubtype.REGULATION: "ประกาศ ณ วันที่",
    LetterSubtype.BYLAW: "ประกาศ ณ วันที่",
    LetterSubtype.ANNOUNCEMENT: "ประกาศ ณ วันที่",
    LetterSubtype.CERTIFICATE: "ให้ไว้ ณ วันที่",
}


def layout_kind(content: LetterContent) -> str:
    """The name of the layout that draws ``content``: the subtype, or the type when it has none."""
    return content.subtype.value if content.subtype else content.type.value


def _numbered(items: list[str], *, thai: bool, always: bool = False) -> list[dict[str, str]]:
    """``items`` as (label, text) rows; labelled "๑." "๒." when several (or ``always``)."""
    numbered = always or len(items) > 1
    return [
        {"label": f"{numeral(i, thai=thai)}." if numbered else "", "text": printed_digits(text, thai=thai)}
        for i, text in enumerate(items, start=1)
    ]


def _long_date(day: dt.date, *, thai: bool) -> str:
    """The date as written after "ณ วันที่": "๒๖ พฤศจิกายน พ.ศ. ๒๕๖๙"."""
    text = f"{day.day} {THAI_MONTHS[day.month - 1]} พ.ศ. {buddhist_year(day.year)}"
    return printed_digits(text, thai=thai)


def _number(content: LetterContent, *, thai: bool) -> dict[str, Any]:
    """The "ที่" of the letter; a draft shows the letter code and "/" with room for the number."""
    if content.number:
        return {"text": printed_digits(content.number, thai=thai), "draft": False, "tail": ""}
    if content.subtype is LetterSubtype.ORDER:
        year = f"/{buddhist_year(content.date.year)}" if content.date else "/"
        return {"text": "", "draft": True, "tail": printed_digits(year, thai=thai)}
    code = content.issuer.letter_code
    prefix = f"{code}/" + ("ว " if content.circular else "") if code else ""
    return {"text": printed_digits(prefix, thai=thai), "draft": True, "tail": ""}


def _heading(content: LetterContent, *, thai: bool) -> dict[str, str]:
    """The centred title lines of directives and public-relations letters."""
    subtype = content.subtype
    if subtype not in _HEADING_WORD:
        return {"title": "", "about": "", "year": ""}
    word = _HEADING_WORD[subtype]
    name = content.issuer.name
    title = name if name.startswith(word) else f"{word}{name}"
    about = ""
    year = ""
    if subtype in (LetterSubtype.REGULATION, LetterSubtype.BYLAW):
        subject = content.subject
        about = subject if subject.startswith("ว่าด้วย") else f"ว่าด้วย{subject}"
        year = f"พ.ศ. {buddhist_year(content.date.year)}" if content.date else "พ.ศ."
    return {
        "title": printed_digits(title, thai=thai),
        "about": printed_digits(about, thai=thai),
        "year": printed_digits(year, thai=thai),
    }


def _meeting(content: LetterContent, *, thai: bool) -> dict[str, Any] | None:
    meeting = content.meeting
    if meeting is None:
        return None
    when = ""
    if content.date:
        weekday = THAI_WEEKDAYS[content.date.weekday()]
        when = f"เมื่อวัน{weekday}ที่ {format_thai_date(content.date, use_thai_digits=thai)}"
    return {
        "name": printed_digits(meeting.name, thai=thai),
        "session": printed_digits(meeting.session, thai=thai),
        "when": when,
        "place": printed_digits(meeting.place, thai=thai),
        "present": _numbered(meeting.present, thai=thai, always=True),
        "absent": _numbered(meeting.absent, thai=thai, always=True),
        "also_present": _numbered(meeting.also_present, thai=thai, always=True),
        "start_time": printed_digits(meeting.start_time, thai=thai),
        "end_time": printed_digits(meeting.end_time, thai=thai),
        "recorder": printed_digits(meeting.recorder, thai=thai),
    }


def letter_view(content: LetterContent) -> dict[str, Any]:
    """The data the letter template draws: every text as printed (Thai date, chosen digits)."""
    thai = content.digits is DigitStyle.THAI

    def p(text: str) -> str:
        return printed_digits(text, thai=thai)

    urgent_by = content.urgent_by
    if urgent_by.startswith("ภายใน"):
        urgent_by = f"ด่วน{urgent_by}"
    elif urgent_by and not urgent_by.startswith("ด่วนภายใน"):
        urgent_by = f"ด่วนภายใน {urgent_by}"
    date = format_thai_date(content.date, use_thai_digits=thai) if content.date else ""
    dated_prefix = _DATED_PREFIX.get(content.subtype, "") if content.subtype else ""
    title_parts = [content.kind_label_th, content.subject or content.issuer.name]
    return {
        "kind": layout_kind(content),
        "doc_title": " ".join(part for part in title_parts if part),
        "author": content.issuer.name,
        "thai_digits": thai,
        "sizes": sizes(),
        "urgency": content.urgency.label_th,
        "urgent_by": p(urgent_by),
        "secrecy": content.secrecy.label_th,
        "number": _number(content, thai=thai),
        "date": date,
        "long_date": _long_date(content.date, thai=thai) if content.date else "",
        "dated_prefix": dated_prefix,
        "heading": _heading(content, thai=thai),
        "issuer": {
            "name": p(content.issuer.name),
            "address": [p(line) for line in content.issuer.address.splitlines() if line.strip()],
        },
        "subject": p(content.subject),
        "salutation": p(content.salutation),
        "recipient": p(content.recipient),
        "references": _numbered(content.references, thai=thai),
        "enclosures": _numbered([e.title for e in content.enclosures], thai=thai),
        "body": [p(par) for par in content.body if par.strip()],
        "closing": p(content.closing),
        "signer": {
            "name": p(content.signer.name),
            "position": p(content.signer.position),
            "acting_for": p(content.signer.acting_for),
            "mark": p(content.signer.mark),
        },
        "owner_unit": p(content.owner_unit),
        "phone": p(content.phone),
        "fax": p(content.fax),
        "email": content.email,
        "carbon_copies": [p(cc) for cc in content.carbon_copies],
        "meeting": _meeting(content, thai=thai),
        "is_external_like": content.type in (LetterType.EXTERNAL, LetterType.STAMPED),
    }


def render_letter(content: LetterContent, *, pdf_standard: str = DEFAULT_PDF_STANDARD) -> bytes:
    """Render ``content`` as an A4 PDF in the official layout of its type and return the bytes.

    ``pdf_standard`` is a Typst PDF standard (``"a-3b"`` by default, also ``"a-2b"``, ``"a-4"``…);
    an empty string writes a plain PDF. The letter is not validated here: call
    ``saraban.correspondence.content.check_letter`` first. Safe to call from several threads.
    """
    return _within_pages(repair_text_layer(compile_pdf("letter", letter_view(content),
                                                        pdf_standard=pdf_standard or None)))


def _within_pages(pdf: bytes) -> bytes:
    """``pdf``, unless it has more pages than a letter may (``ValidationFailed`` naming the limit)."""
    import io

    from pypdf import PdfReader

    from saraban.core.errors import FieldProblem, ValidationFailed

    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    if pages > max_pages():
        raise ValidationFailed([FieldProblem(
            "body", "too_many_pages",
            f"หนังสือยาว {pages:,} หน้า เกินกว่าที่กำหนด {max_pages():,} หน้า ให้แยกเนื้อหาเป็นสิ่งที่ส่งมาด้วย",
            f"The letter runs to {pages:,} pages, more than the limit of {max_pages():,}; "
            "attach the rest as an enclosure",
        )])
    return pdf


@dataclass(frozen=True)
class SignatureRoom:
    """The blank room above the signer's name: page index (0-based) and box in PDF points (bottom-left)."""

    page: int
    box: tuple[float, float, float, float]


A4_HEIGHT_PT = 841.89


def render_letter_with_signature_room(
    content: LetterContent, *, pdf_standard: str = DEFAULT_PDF_STANDARD, width: float = 230.0
) -> tuple[bytes, SignatureRoom | None]:
    """``render_letter``, and where the signature goes (``None`` for letters without a signer's block).

    A digital signature's stamp (``width`` points wide) is drawn in that room, centred like the block.
    """
    pdf, rooms = compile_pdf_with_query(
        "letter", letter_view(content), "<signature-room>", pdf_standard=pdf_standard or None
    )
    pdf = _within_pages(repair_text_layer(pdf))
    if not rooms:
        return pdf, None
    room = rooms[-1]  # the signer's block is the last (minutes also have the recorder's)
    bottom = room["bottom"]  # the top of the "(name)" line; the room is the blank height above it
    centre = _pt(bottom["x"]) + _pt(room["cx"])
    lower = A4_HEIGHT_PT - _pt(bottom["y"]) + 2  # clear of the tall Thai marks of the name
    upper = lower + _pt(room["height"])
    return pdf, SignatureRoom(int(bottom["page"]) - 1, (centre - width / 2, lower, centre + width / 2, upper))


def _pt(length: str | float) -> float:
    return float(str(length).removesuffix("pt"))
