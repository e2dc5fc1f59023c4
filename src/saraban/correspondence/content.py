"""The content of an official letter, independent of the database.

``LetterContent`` is what a letter says and what the renderer draws; it is also the JSON format of
``saraban render LETTER.json`` (documented in the README). ``check_letter`` applies the rules of
the Correspondence Regulation per letter type and reports every problem in Thai and English.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from saraban.core.errors import FieldProblem, ValidationFailed
from saraban.core.thai import arabic_digits

from .kinds import SUBTYPES, DigitStyle, LetterSubtype, LetterType, Secrecy, Urgency

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=50_000)]

# รหัสพยัญชนะ + เลขประจำส่วนราชการ, e.g. "นร 0105", "ศธ 04002", "นบ 51001", "กค 0402.3".
LETTER_CODE_RE = re.compile(r"^[ก-ฮ]{2,3}(?:\.[ก-ฮ]{1,3})?\s[0-9]{2,5}(?:\.[0-9]{1,3})*$")
# The letter's number: "<code>/<n>" or, for a circular, "<code>/ว <n>"; digits Thai or Arabic.
LETTER_NUMBER_RE = re.compile(r"^(?P<code>.+?)/(?P<circular>ว\s?)?(?P<n>[0-9]{1,7})$")
# The number of an order (คำสั่ง): "<n>/<พ.ศ.>".
ORDER_NUMBER_RE = re.compile(r"^[0-9]{1,6}/[0-9]{4}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Issuer(StrictModel):
    """ส่วนราชการเจ้าของหนังสือ: the agency that issues the letter."""

    name: Text = ""
    address: Text = ""  # ที่ตั้ง; lines separated by "\n"
    letter_code: Text = ""  # รหัสพยัญชนะและเลขประจำส่วนราชการ


class Signer(StrictModel):
    """ผู้ลงนาม: the person who signs, with the position printed under the name."""

    name: Text = ""
    position: Text = ""
    # รักษาราชการแทน / ปฏิบัติราชการแทน: printed as a line under the position.
    acting_for: Text = ""
    # What stands in the signature space of an electronically signed letter (2021 amendment: a
    # typed name inside an identity-verified system), e.g. "ลงนามอิเล็กทรอนิกส์ 26 พ.ย. 2569 14:05 น.".
    mark: Text = ""


class Enclosure(StrictModel):
    """สิ่งที่ส่งมาด้วย: one enclosure; ``sha256`` names the attached file in the store, if any."""

    title: Text
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] | None = None
    filename: Text = ""


class Meeting(StrictModel):
    """The header of รายงานการประชุม (minutes)."""

    name: Text = ""  # e.g. "คณะทำงานขับเคลื่อนการใช้ระบบ e-Document"
    session: Text = ""  # ครั้งที่ ๑/๒๕๖๕
    place: Text = ""
    present: list[Text] = Field(default_factory=list)
    absent: list[Text] = Field(default_factory=list)
    also_present: list[Text] = Field(default_factory=list)
    start_time: Text = ""
    end_time: Text = ""
    recorder: Text = ""  # ผู้จดรายงานการประชุม


class LetterContent(StrictModel):
    """Everything printed on an official letter."""

    type: LetterType
    subtype: LetterSubtype | None = None
    number: Text = ""  # ที่: "นร 0105/123", "นร 0105/ว 12"; an order "12/2569"; empty until issued
    date: dt.date | None = None  # วันที่ (Gregorian in JSON, printed in พ.ศ.); empty until issued
    urgency: Urgency = Urgency.NORMAL
    urgent_by: Text = ""  # "ด่วนภายใน" + date/time, printed under the urgency mark
    secrecy: Secrecy = Secrecy.NORMAL
    circular: bool = False  # หนังสือเวียน: the number carries "ว"
    issuer: Issuer = Field(default_factory=Issuer)
    subject: Text = ""  # เรื่อง
    salutation: Text = ""  # คำขึ้นต้น, e.g. "เรียน"
    recipient: Text = ""  # who it is addressed to, after the salutation (ถึง for stamped letters)
    references: list[Text] = Field(default_factory=list)  # อ้างถึง
    enclosures: list[Enclosure] = Field(default_factory=list)  # สิ่งที่ส่งมาด้วย
    body: list[LongText] = Field(default_factory=list)  # ข้อความ: one string per paragraph
    closing: Text = ""  # คำลงท้าย, e.g. "ขอแสดงความนับถือ"
    signer: Signer = Field(default_factory=Signer)
    owner_unit: Text = ""  # ส่วนราชการเจ้าของเรื่อง
    phone: Text = ""
    fax: Text = ""
    email: Text = ""
    carbon_copies: list[Text] = Field(default_factory=list)  # สำเนาส่ง
    meeting: Meeting | None = None
    digits: DigitStyle = DigitStyle.THAI

    @property
    def kind_label_th(self) -> str:
        """The Thai name of the letter's (sub-)type."""
        return self.subtype.label_th if self.subtype else self.type.label_th


def parse_letter_json(data: Any) -> LetterContent:
    """Build a ``LetterContent`` from decoded JSON, turning schema errors into field problems."""
    try:
        return LetterContent.model_validate(data)
    except ValidationError as exc:
        problems = [
            FieldProblem(
                field=".".join(str(p) for p in err["loc"]) or "(letter)",
                code=f"schema.{err['type']}",
                message_th=_schema_message_th(err["type"], err.get("ctx")),
                message_en=err["msg"],
            )
            for err in exc.errors()
        ]
        raise ValidationFailed(problems) from None


def _schema_message_th(error_type: str, ctx: dict[str, Any] | None) -> str:
    messages = {
        "missing": "ต้องระบุ",
        "extra_forbidden": "ไม่รู้จักช่องข้อมูลนี้",
        "enum": "ค่าไม่อยู่ในรายการที่กำหนด",
        "date_from_datetime_parsing": "วันที่ไม่ถูกต้อง (ใช้รูปแบบ YYYY-MM-DD ปี ค.ศ.)",
        "date_parsing": "วันที่ไม่ถูกต้อง (ใช้รูปแบบ YYYY-MM-DD ปี ค.ศ.)",
        "date_type": "วันที่ไม่ถูกต้อง (ใช้รูปแบบ YYYY-MM-DD ปี ค.ศ.)",
        "string_type": "ต้องเป็นข้อความ",
        "string_too_long": "ข้อความยาวเกินกำหนด",
        "string_pattern_mismatch": "รูปแบบไม่ถูกต้อง",
        "list_type": "ต้องเป็นรายการ",
        "bool_type": "ต้องเป็น true หรือ false",
        "bool_parsing": "ต้องเป็น true หรือ false",
        "model_type": "ต้องเป็นออบเจกต์ JSON",
        "model_attributes_type": "ต้องเป็นออบเจกต์ JSON",
    }
    return messages.get(error_type, "ข้อมูลไม่ถูกต้อง")


# Fields each type requires: (field path, Thai name, English name).
_F = {
    "issuer.name": ("ส่วนราชการเจ้าของหนังสือ", "issuing agency"),
    "issuer.address": ("ที่ตั้งของส่วนราชการ", "agency address"),
    "issuer.letter_code": ("รหัสพยัญชนะและเลขประจำส่วนราชการ", "agency letter code"),
    "subject": ("เรื่อง", "subject"),
    "salutation": ("คำขึ้นต้น", "salutation"),
    "recipient": ("ผู้รับ (เรียน/ถึง)", "recipient"),
    "body": ("ข้อความ", "body"),
    "closing": ("คำลงท้าย", "closing"),
    "signer.name": ("ชื่อผู้ลงนาม", "signer's name"),
    "signer.position": ("ตำแหน่งผู้ลงนาม", "signer's position"),
    "owner_unit": ("ส่วนราชการเจ้าของเรื่อง", "unit in charge"),
    "phone": ("โทรศัพท์", "telephone"),
    "number": ("ที่ (เลขที่หนังสือ)", "letter number"),
    "date": ("วันที่", "date"),
    "meeting.name": ("ชื่อการประชุม", "meeting name"),
    "meeting.place": ("สถานที่ประชุม", "meeting place"),
    "meeting.recorder": ("ผู้จดรายงานการประชุม", "minute taker"),
}

_COMMON_SIGNED = ("body", "signer.name", "signer.position")
REQUIRED_FIELDS: dict[tuple[LetterType, LetterSubtype | None], tuple[str, ...]] = {
    (LetterType.EXTERNAL, None): (
        "issuer.name", "issuer.address", "issuer.letter_code", "subject", "salutation", "recipient",
        "closing", "owner_unit", "phone", *_COMMON_SIGNED,
    ),
    (LetterType.INTERNAL, None): (
        "issuer.name", "issuer.letter_code", "subject", "salutation", "recipient", *_COMMON_SIGNED,
    ),
    (LetterType.STAMPED, None): ("issuer.name", "issuer.letter_code", "recipient", "body", "owner_unit", "phone"),
    (LetterType.DIRECTIVE, LetterSubtype.ORDER): ("issuer.name", "subject", *_COMMON_SIGNED),
    (LetterType.DIRECTIVE, LetterSubtype.REGULATION): ("issuer.name", "subject", *_COMMON_SIGNED),
    (LetterType.DIRECTIVE, LetterSubtype.BYLAW): ("issuer.name", "subject", *_COMMON_SIGNED),
    (LetterType.PUBLIC_RELATIONS, LetterSubtype.ANNOUNCEMENT): ("issuer.name", "subject", *_COMMON_SIGNED),
    (LetterType.PUBLIC_RELATIONS, LetterSubtype.STATEMENT): ("issuer.name", "subject", "body"),
    (LetterType.PUBLIC_RELATIONS, LetterSubtype.NEWS): ("issuer.name", "subject", "body"),
    (LetterType.RECORD, LetterSubtype.CERTIFICATE): (
        "issuer.name", "issuer.address", "issuer.letter_code", *_COMMON_SIGNED,
    ),
    (LetterType.RECORD, LetterSubtype.MINUTES): (
        "issuer.name", "meeting.name", "meeting.place", "meeting.recorder", "body",
    ),
    (LetterType.RECORD, LetterSubtype.MEMO): ("subject", "salutation", "recipient", *_COMMON_SIGNED),
    (LetterType.RECORD, LetterSubtype.OTHER): ("subject", "body"),
}
# Fields an issued letter must also have (the number and date are filled in when it is issued).
REQUIRED_WHEN_ISSUED: dict[LetterType, tuple[str, ...]] = {
    LetterType.EXTERNAL: ("number", "date"),
    LetterType.INTERNAL: ("number", "date"),
    LetterType.STAMPED: ("number", "date"),
    LetterType.DIRECTIVE: ("date",),
    LetterType.PUBLIC_RELATIONS: ("date",),
    LetterType.RECORD: ("date",),
}


def _value(content: LetterContent, path: str) -> Any:
    obj: Any = content
    for part in path.split("."):
        if obj is None:
            return None
        obj = getattr(obj, part)
    return obj


def _problem(field: str, code: str, th: str, en: str) -> FieldProblem:
    return FieldProblem(field=field, code=code, message_th=th, message_en=en)


def letter_problems(content: LetterContent, *, issued: bool = False) -> list[FieldProblem]:
    """Every problem with ``content`` under the rules of its type; empty when the letter is valid.

    ``issued`` adds the fields an issued letter must carry (its number and date).
    """
    from .printable import unrenderable_problems

    problems: list[FieldProblem] = unrenderable_problems(content)
    allowed = SUBTYPES[content.type]
    if allowed and content.subtype not in allowed:
        names = ", ".join(f"{s.value} ({s.label_th})" for s in allowed)
        problems.append(_problem(
            "subtype", "subtype.required",
            f"{content.type.label_th} ต้องระบุประเภทย่อย: {names}",
            f"A {content.type.label_en.lower()} needs a subtype: {names}",
        ))
        return problems
    if not allowed and content.subtype is not None:
        problems.append(_problem(
            "subtype", "subtype.not_allowed",
            f"{content.type.label_th} ไม่มีประเภทย่อย", f"A {content.type.label_en.lower()} has no subtype",
        ))
        return problems

    required = REQUIRED_FIELDS[(content.type, content.subtype)]
    if issued:
        required = (*required, *REQUIRED_WHEN_ISSUED[content.type])
    for path in required:
        value = _value(content, path)
        if value in (None, "", []) or (path == "body" and not any(p.strip() for p in value)):
            th, en = _F[path]
            problems.append(_problem(path, "required", f"ต้องระบุ{th}", f"The {en} is required"))

    code = content.issuer.letter_code
    if code and not LETTER_CODE_RE.match(arabic_digits(code)):
        problems.append(_problem(
            "issuer.letter_code", "malformed",
            f"รหัสหนังสือ “{code}” ไม่ถูกต้อง: ต้องเป็นรหัสพยัญชนะ ๒–๓ ตัว เว้นวรรค แล้วตามด้วยเลขประจำส่วนราชการ เช่น นร 0105",
            f"Letter code “{code}” is malformed: 2–3 Thai letters, a space, then the agency number, e.g. นร 0105",
        ))
    if content.number:
        problems.extend(_number_problems(content))
    if content.email and not EMAIL_RE.match(content.email):
        problems.append(_problem(
            "email", "malformed", f"ที่อยู่อีเมล “{content.email}” ไม่ถูกต้อง",
            f"E-mail address “{content.email}” is malformed",
        ))
    if content.urgent_by and content.urgency is Urgency.NORMAL:
        problems.append(_problem(
            "urgent_by", "needs_urgency", "ระบุ “ด่วนภายใน” ได้เฉพาะหนังสือที่มีชั้นความเร็ว",
            "“Urgent by” needs an urgency level",
        ))
    if content.circular and content.type not in (LetterType.EXTERNAL, LetterType.INTERNAL, LetterType.STAMPED):
        problems.append(_problem(
            "circular", "not_allowed", "หนังสือเวียนต้องเป็นหนังสือภายนอก ภายใน หรือประทับตรา",
            "Only external, internal and stamped letters can be circulars",
        ))
    if content.type is LetterType.STAMPED and content.secrecy is not Secrecy.NORMAL:
        # ข้อ 14: หนังสือประทับตรา is for routine matters only.
        problems.append(_problem(
            "secrecy", "not_allowed", "หนังสือประทับตราใช้กับเรื่องที่ไม่สำคัญเท่านั้น จึงกำหนดชั้นความลับไม่ได้",
            "A stamped letter is for routine matters and cannot be classified",
        ))
    return problems


def _number_problems(content: LetterContent) -> list[FieldProblem]:
    number = arabic_digits(content.number)
    coded = content.type in (LetterType.EXTERNAL, LetterType.INTERNAL, LetterType.STAMPED) or (
        content.subtype is LetterSubtype.CERTIFICATE
    )
    if not coded and content.subtype not in (LetterSubtype.ORDER, LetterSubtype.ANNOUNCEMENT):
        return []  # e.g. แถลงการณ์ "ฉบับที่ ๑": free text, not drawn from a register
    if content.subtype in (LetterSubtype.ORDER, LetterSubtype.ANNOUNCEMENT):
        if not ORDER_NUMBER_RE.match(number):
            return [_problem(
                "number", "malformed", f"เลขที่ “{content.number}” ต้องอยู่ในรูป ลำดับ/พ.ศ. เช่น 12/2569",
                f"Number “{content.number}” must be <n>/<Buddhist year>, e.g. 12/2569",
            )]
        return []
    match = LETTER_NUMBER_RE.match(number)
    if not match:
        return [_problem(
            "number", "malformed",
            f"เลขที่หนังสือ “{content.number}” ต้องอยู่ในรูป รหัสหนังสือ/เลขทะเบียนส่ง เช่น นร 0105/123",
            f"Letter number “{content.number}” must be <letter code>/<register number>, e.g. นร 0105/123",
        )]
    problems = []
    if bool(match["circular"]) != content.circular:
        problems.append(_problem(
            "number", "circular_mismatch",
            "หนังสือเวียนต้องมี “ว” หน้าเลขทะเบียนส่ง และหนังสือที่ไม่ใช่หนังสือเวียนต้องไม่มี",
            "A circular's number carries “ว” before the register number; other letters' numbers do not",
        ))
    code = arabic_digits(content.issuer.letter_code)
    if code and not match["code"].startswith(code):
        problems.append(_problem(
            "number", "code_mismatch",
            f"เลขที่หนังสือต้องขึ้นต้นด้วยรหัสของส่วนราชการเจ้าของหนังสือ “{content.issuer.letter_code}”",
            f"The letter number must start with the issuer's letter code “{content.issuer.letter_code}”",
        ))
    return problems


def check_letter(content: LetterContent, *, issued: bool = False) -> None:
    """Raise ``ValidationFailed`` naming every problem of ``content``; return if it is valid."""
    problems = letter_problems(content, issued=issued)
    if problems:
        raise ValidationFailed(problems)
