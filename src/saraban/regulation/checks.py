"""The rules of the Correspondence Regulation (ระเบียบงานสารบรรณ) per letter type, without the database.

``regulation_problems`` names every field a letter of its type lacks or has malformed, in Thai and
English; ``saraban.correspondence.content.check_letter`` adds the printability checks and raises.
"""

from __future__ import annotations

from typing import Any

from saraban.core.errors import FieldProblem
from saraban.core.thai import arabic_digits

from .content import EMAIL_RE, LETTER_CODE_RE, LETTER_NUMBER_RE, ORDER_NUMBER_RE, LetterContent
from .kinds import SUBTYPES, LetterSubtype, LetterType, Secrecy, Urgency

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


def regulation_problems(content: LetterContent, *, issued: bool = False) -> list[FieldProblem]:
    """Every problem with ``content`` under the Regulation's rules for its type; empty when it follows them.

    ``issued`` adds the fields an issued letter must carry (its number and date). Whether the text can
    be printed at all (its characters, its size) is ``saraban.rendering.printable``'s check.
    """
    problems: list[FieldProblem] = []
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
