"""The enumerations of the Correspondence Regulation: letter types, urgency and secrecy levels, digit style."""

from __future__ import annotations

from enum import StrEnum


class LetterType(StrEnum):
    """The six types of official letter (ระเบียบงานสารบรรณ ข้อ 9)."""

    EXTERNAL = "external"  # หนังสือภายนอก
    INTERNAL = "internal"  # หนังสือภายใน (บันทึกข้อความ)
    STAMPED = "stamped"  # หนังสือประทับตรา
    DIRECTIVE = "directive"  # หนังสือสั่งการ
    PUBLIC_RELATIONS = "public_relations"  # หนังสือประชาสัมพันธ์
    RECORD = "record"  # หนังสือที่เจ้าหน้าที่ทำขึ้นหรือรับไว้เป็นหลักฐานในราชการ

    @property
    def label_th(self) -> str:
        return _TYPE_LABELS[self][0]

    @property
    def label_en(self) -> str:
        return _TYPE_LABELS[self][1]


_TYPE_LABELS = {
    LetterType.EXTERNAL: ("หนังสือภายนอก", "External letter"),
    LetterType.INTERNAL: ("หนังสือภายใน", "Internal memo"),
    LetterType.STAMPED: ("หนังสือประทับตรา", "Stamped letter"),
    LetterType.DIRECTIVE: ("หนังสือสั่งการ", "Directive"),
    LetterType.PUBLIC_RELATIONS: ("หนังสือประชาสัมพันธ์", "Public-relations letter"),
    LetterType.RECORD: ("หนังสือที่เจ้าหน้าที่ทำขึ้นหรือรับไว้เป็นหลักฐาน", "Record kept as evidence"),
}


class LetterSubtype(StrEnum):
    """Sub-types of the directive, public-relations and record types."""

    ORDER = "order"  # คำสั่ง
    REGULATION = "regulation"  # ระเบียบ
    BYLAW = "bylaw"  # ข้อบังคับ
    ANNOUNCEMENT = "announcement"  # ประกาศ
    STATEMENT = "statement"  # แถลงการณ์
    NEWS = "news"  # ข่าว
    CERTIFICATE = "certificate"  # หนังสือรับรอง
    MINUTES = "minutes"  # รายงานการประชุม
    MEMO = "memo"  # บันทึก
    OTHER = "other"  # หนังสืออื่น

    @property
    def label_th(self) -> str:
        return _SUBTYPE_LABELS[self][0]

    @property
    def label_en(self) -> str:
        return _SUBTYPE_LABELS[self][1]


_SUBTYPE_LABELS = {
    LetterSubtype.ORDER: ("คำสั่ง", "Order"),
    LetterSubtype.REGULATION: ("ระเบียบ", "Regulation"),
    LetterSubtype.BYLAW: ("ข้อบังคับ", "By-law"),
    LetterSubtype.ANNOUNCEMENT: ("ประกาศ", "Announcement"),
    LetterSubtype.STATEMENT: ("แถลงการณ์", "Statement"),
    LetterSubtype.NEWS: ("ข่าว", "News"),
    LetterSubtype.CERTIFICATE: ("หนังสือรับรอง", "Certificate"),
    LetterSubtype.MINUTES: ("รายงานการประชุม", "Minutes of a meeting"),
    LetterSubtype.MEMO: ("บันทึก", "Note"),
    LetterSubtype.OTHER: ("หนังสืออื่น", "Other record"),
}

SUBTYPES: dict[LetterType, tuple[LetterSubtype, ...]] = {
    LetterType.EXTERNAL: (),
    LetterType.INTERNAL: (),
    LetterType.STAMPED: (),
    LetterType.DIRECTIVE: (LetterSubtype.ORDER, LetterSubtype.REGULATION, LetterSubtype.BYLAW),
    LetterType.PUBLIC_RELATIONS: (LetterSubtype.ANNOUNCEMENT, LetterSubtype.STATEMENT, LetterSubtype.NEWS),
    LetterType.RECORD: (
        LetterSubtype.CERTIFICATE,
        LetterSubtype.MINUTES,
        LetterSubtype.MEMO,
        LetterSubtype.OTHER,
    ),
}


class Urgency(StrEnum):
    """ชั้นความเร็ว: marked in red, at least 32 pt, on the letter and the envelope."""

    NORMAL = "normal"
    URGENT = "urgent"  # ด่วน
    VERY_URGENT = "very_urgent"  # ด่วนมาก
    MOST_URGENT = "most_urgent"  # ด่วนที่สุด

    @property
    def label_th(self) -> str:
        return {"normal": "", "urgent": "ด่วน", "very_urgent": "ด่วนมาก", "most_urgent": "ด่วนที่สุด"}[self.value]

    @property
    def rank(self) -> int:
        """Higher is more urgent; work queues sort by it."""
        return list(Urgency).index(self)


class Secrecy(StrEnum):
    """ชั้นความลับ (ระเบียบว่าด้วยการรักษาความลับของทางราชการ พ.ศ. ๒๕๔๔)."""

    NORMAL = "normal"
    CONFIDENTIAL = "confidential"  # ลับ
    SECRET = "secret"  # ลับมาก
    TOP_SECRET = "top_secret"  # ลับที่สุด

    @property
    def label_th(self) -> str:
        return {"normal": "", "confidential": "ลับ", "secret": "ลับมาก", "top_secret": "ลับที่สุด"}[self.value]

    @property
    def rank(self) -> int:
        return list(Secrecy).index(self)

    @property
    def is_classified(self) -> bool:
        return self is not Secrecy.NORMAL


class DigitStyle(StrEnum):
    """How numbers are printed on a letter; an organisation setting."""

    THAI = "thai"
    ARABIC = "arabic"
