"""The content of an official letter (ระเบียบงานสารบรรณ), independent of the database.

``LetterContent`` is what a letter says and what the renderer draws; it is also the JSON format of
``saraban render LETTER.json`` (docs/letter-json.md). The rules each type must follow are in
``saraban.regulation.checks``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from saraban.core.errors import FieldProblem, ValidationFailed

from .kinds import DigitStyle, LetterSubtype, LetterType, Secrecy, Urgency

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
