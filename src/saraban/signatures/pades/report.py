"""The validation report: one entry per signature, in the ETSI EN 319 102-1 vocabulary.

``Report.to_json()`` is what ``saraban verify --json``, the API and the stored receipt report carry;
``explain_th()`` / ``explain_en()`` say the result in words a clerk understands.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


def thai_datetime(moment: dt.datetime) -> str:
    """``26 พฤศจิกายน 2569 เวลา 14.05 น.``: the date in the Buddhist era, Thai time (UTC+7)."""
    from saraban.core.thai import THAI_MONTHS, buddhist_year

    local = moment.astimezone(dt.timezone(dt.timedelta(hours=7)))
    return f"{local.day} {THAI_MONTHS[local.month - 1]} {buddhist_year(local.year)} เวลา {local:%H.%M} น."


def _thai_iso(text: str) -> str:
    try:
        return thai_datetime(dt.datetime.fromisoformat(text))
    except ValueError:
        return text


class Indication(StrEnum):
    """Main indication (ETSI EN 319 102-1 §5.1.3)."""

    TOTAL_PASSED = "TOTAL_PASSED"
    INDETERMINATE = "INDETERMINATE"
    TOTAL_FAILED = "TOTAL_FAILED"


class Modifications(StrEnum):
    """What changed in the file after the signature (pyHanko's difference analysis)."""

    NONE = "none"
    LTA_UPDATES = "lta_updates"
    METADATA = "metadata"  # new document metadata (/Info, XMP), perhaps beside long-term validation data
    FORM_FILLING = "form_filling"
    ANNOTATIONS = "annotations"
    OTHER = "other"


_SEVERITY = {Indication.TOTAL_PASSED: 0, Indication.INDETERMINATE: 1, Indication.TOTAL_FAILED: 2}


@dataclass
class SignatureResult:
    """The result for one signature or document timestamp."""

    field_name: str
    kind: str  # "signature" | "certification" | "document_timestamp"
    indication: Indication
    sub_indication: str | None = None
    signer: str | None = None
    signer_certificate: dict[str, str] = field(default_factory=dict)
    chain: list[str] = field(default_factory=list)
    trust_anchor: str | None = None
    revocation_status: str = "not_checked"  # good | revoked | not_checked
    revocation_source: str = "none"  # embedded | fetched | none
    signing_time: str | None = None  # claimed by the signer (not proof)
    timestamp: str | None = None  # from a trusted timestamp (proof of existence)
    timestamp_trusted: bool | None = None
    covers: str = "unknown"  # entire_file | entire_revision | partial | unknown
    revision: int | None = None
    revisions_total: int | None = None
    modifications: Modifications | None = None
    # the stretches of the file after the signed bytes: later revisions (and what each is for) and any
    # trailing data that is no revision ({start, end, bytes, what, revision, changes})
    not_covered: list[dict[str, Any]] = field(default_factory=list)
    # form fields that show something else than when signed while their value is the same (shadow attack)
    replaced_fields: list[str] = field(default_factory=list)
    level: str | None = None
    details: list[str] = field(default_factory=list)

    def explain_th(self) -> str:
        """The result in Thai, for a clerk."""
        return _explain(self, thai=True)

    def explain_en(self) -> str:
        """The result in English."""
        return _explain(self, thai=False)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data, with the explanations."""
        data = asdict(self)
        data["indication"] = str(self.indication)
        data["modifications"] = str(self.modifications) if self.modifications else None
        data["explanation_th"] = self.explain_th()
        data["explanation_en"] = self.explain_en()
        return data


@dataclass
class Report:
    """The validation report of one file."""

    indication: Indication
    sub_indication: str | None = None
    signatures: list[SignatureResult] = field(default_factory=list)
    sha256: str | None = None
    problem: str | None = None  # why the file as a whole could not be validated
    seconds: float = 0.0

    @classmethod
    def overall(cls, signatures: list[SignatureResult], **kwargs: Any) -> Report:
        """The report whose indication is the worst of ``signatures``."""
        worst = max(signatures, key=lambda s: _SEVERITY[s.indication])
        return cls(indication=worst.indication, sub_indication=worst.sub_indication, signatures=signatures, **kwargs)

    @property
    def passed(self) -> bool:
        """Whether every signature passed."""
        return self.indication is Indication.TOTAL_PASSED

    def explain_th(self) -> str:
        """The whole result in Thai: one line for the file, then one per signature."""
        return "\n".join([_overall(self, thai=True), *[f"- {s.field_name}: {s.explain_th()}" for s in self.signatures]])

    def explain_en(self) -> str:
        """The whole result in English."""
        lines = [f"- {s.field_name}: {s.explain_en()}" for s in self.signatures]
        return "\n".join([_overall(self, thai=False), *lines])

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data (the ``saraban verify --json`` format)."""
        return {
            "indication": str(self.indication),
            "sub_indication": self.sub_indication,
            "sha256": self.sha256,
            "problem": self.problem,
            "explanation_th": self.explain_th(),
            "explanation_en": self.explain_en(),
            "signatures": [s.to_json() for s in self.signatures],
        }


# (Thai, English) for each sub-indication; the clerk reads the Thai one.
SUB_INDICATION_TEXT: dict[str, tuple[str, str]] = {
    "HASH_FAILURE": (
        "เอกสารถูกแก้ไขหลังลงนาม เนื้อหาไม่ตรงกับที่ผู้ลงนามลงนามไว้ ห้ามใช้ฉบับนี้",
        "the document was changed after signing; its content is not what was signed",
    ),
    "SIG_CRYPTO_FAILURE": (
        "ลายมือชื่อดิจิทัลไม่ถูกต้องตามหลักการเข้ารหัส (ไม่ได้สร้างด้วยกุญแจของใบรับรองนี้)",
        "the cryptographic signature does not match the signer's certificate",
    ),
    "FORMAT_FAILURE": (
        "ไฟล์หรือลายมือชื่อมีโครงสร้างผิดรูปแบบหรือเสียหาย จึงตรวจสอบไม่ได้ หรือลายมือชื่อไม่ได้ครอบคลุมทั้งเอกสาร",
        "the file or the signature is malformed or damaged, or the signature does not cover the document",
    ),
    "SIG_CONSTRAINTS_FAILURE": (
        "มีการเปลี่ยนแปลงเอกสารหลังลงนามในแบบที่ไม่อนุญาต (เช่น แก้เนื้อหา เพิ่มหรือลบหน้า)",
        "the document was changed after signing in a way that is not allowed",
    ),
    "REVOKED": (
        "ใบรับรองของผู้ลงนามถูกเพิกถอนก่อนการลงนาม ลายมือชื่อนี้ใช้ไม่ได้",
        "the signer's certificate had been revoked before the signature was made",
    ),
    "REVOKED_NO_POE": (
        "ใบรับรองของผู้ลงนามถูกเพิกถอนแล้ว และไม่มีหลักฐานว่าลงนามก่อนถูกเพิกถอน",
        "the signer's certificate is revoked and nothing proves the signature was made before that",
    ),
    "REVOKED_CA_NO_POE": (
        "ใบรับรองของผู้ออกใบรับรองถูกเพิกถอนแล้ว และไม่มีหลักฐานว่าลงนามก่อนถูกเพิกถอน",
        "a CA certificate of the chain is revoked and nothing proves the signature was made before that",
    ),
    "OUT_OF_BOUNDS_NO_POE": (
        "ใบรับรองของผู้ลงนามหมดอายุหรือยังไม่เริ่มใช้ ณ เวลาตรวจสอบ และไม่มีตราประทับเวลาที่พิสูจน์ว่าลงนามขณะใบรับรองยังใช้ได้",
        "the signer's certificate was expired or not yet valid, and no timestamp proves it was valid "
        "when signed",
    ),
    "OUT_OF_BOUNDS_NOT_REVOKED": (
        "ใบรับรองหมดอายุแล้วแต่ไม่ถูกเพิกถอน ไม่มีหลักฐานเวลาที่ลงนาม",
        "the certificate expired (not revoked) and the signing time is not proven",
    ),
    "NO_CERTIFICATE_CHAIN_FOUND": (
        "ใบรับรองไม่ได้ออกโดยผู้ออกใบรับรองที่ระบบเชื่อถือ จึงยืนยันตัวผู้ลงนามไม่ได้",
        "the certificate does not chain to a trusted root, so the signer's identity cannot be confirmed",
    ),
    "NO_SIGNING_CERTIFICATE_FOUND": (
        "ไม่พบใบรับรองของผู้ลงนามในลายมือชื่อ", "the signer's certificate is not in the signature",
    ),
    "TRY_LATER": (
        "ยังตรวจสถานะการเพิกถอนใบรับรองไม่ได้ในขณะนี้ ลองตรวจสอบใหม่ภายหลัง",
        "the revocation status cannot be checked now; try again later",
    ),
    "CHAIN_CONSTRAINTS_FAILURE": (
        "ใบรับรองไม่ผ่านเงื่อนไขของสายใบรับรอง (เช่น การใช้งานกุญแจ)",
        "the certificate chain does not meet the validation constraints (e.g. key usage)",
    ),
    "CERTIFICATE_CHAIN_GENERAL_FAILURE": (
        "สายใบรับรองมีปัญหา ตรวจสอบไม่ผ่าน", "the certificate chain could not be validated",
    ),
    "CRYPTO_CONSTRAINTS_FAILURE": (
        "ใช้อัลกอริทึมเข้ารหัสที่ไม่ปลอดภัยแล้ว", "a cryptographic algorithm that is no longer safe was used",
    ),
    "CRYPTO_CONSTRAINTS_FAILURE_NO_POE": (
        "ใช้อัลกอริทึมเข้ารหัสที่ไม่ปลอดภัยแล้ว และไม่มีหลักฐานเวลาที่ลงนาม",
        "an algorithm that is no longer safe was used and the signing time is not proven",
    ),
    "TIMESTAMP_ORDER_FAILURE": (
        "ลำดับเวลาของตราประทับเวลาไม่ถูกต้อง", "the timestamps are in an impossible order",
    ),
    "NO_POE": (
        "ไม่มีหลักฐานเวลาที่ลงนาม", "nothing proves when the signature was made",
    ),
    "SIGNED_DATA_NOT_FOUND": (
        "ไม่พบข้อมูลที่ถูกลงนาม หรือไม่พบลายมือชื่อในไฟล์นี้",
        "the signed data (or any signature) was not found in this file",
    ),
    "EXPIRED": ("ใบรับรองหมดอายุ", "the certificate has expired"),
    "NOT_YET_VALID": ("ใบรับรองยังไม่เริ่มใช้งาน", "the certificate is not yet valid"),
    "GENERIC": ("ตรวจสอบไม่ผ่านด้วยเหตุผลอื่น", "the validation failed for another reason"),
}

_MODIFICATIONS_TH = {
    Modifications.NONE: "ไม่มีการเปลี่ยนแปลงหลังลงนาม",
    Modifications.LTA_UPDATES: "หลังลงนามมีเพียงการเพิ่มข้อมูลเพื่อการตรวจสอบระยะยาว (ปกติ)",
    Modifications.METADATA: "หลังลงนามมีการแก้ไขข้อมูลกำกับเอกสาร (metadata เช่น ชื่อเรื่อง ผู้จัดทำ) "
                            "เนื้อหาที่ลงนามไม่เปลี่ยน",
    Modifications.FORM_FILLING: "หลังลงนามมีการกรอกแบบฟอร์มหรือลงนามเพิ่ม (อนุญาต)",
    Modifications.ANNOTATIONS: "หลังลงนามมีการเพิ่มหมายเหตุ/ความเห็นบนเอกสาร",
    Modifications.OTHER: "หลังลงนามมีการแก้ไขเอกสารในแบบอื่น",
}
_MODIFICATIONS_EN = {
    Modifications.NONE: "not changed after signing",
    Modifications.LTA_UPDATES: "only long-term validation data added after signing (normal)",
    Modifications.METADATA: "the document metadata (title, author…) was changed after signing; the signed "
                            "content is unchanged",
    Modifications.FORM_FILLING: "form filling or further signatures after signing (allowed)",
    Modifications.ANNOTATIONS: "annotations added after signing",
    Modifications.OTHER: "other changes after signing",
}


# Sub-indications that mean the signed bytes themselves were changed or the signature value is wrong.
CONTENT_BROKEN = frozenset({"HASH_FAILURE", "SIG_CRYPTO_FAILURE"})


def _explain(s: SignatureResult, *, thai: bool) -> str:
    what_th = "ตราประทับเวลาของเอกสาร" if s.kind == "document_timestamp" else "ลายมือชื่อ"
    what_en = "document timestamp" if s.kind == "document_timestamp" else "signature"
    who = s.signer or ("ไม่ทราบผู้ลงนาม" if thai else "unknown signer")
    if s.indication is Indication.TOTAL_PASSED:
        head = (f"{what_th}ของ {who} ถูกต้อง เชื่อถือได้" if thai else f"The {what_en} of {who} is valid and trusted")
    elif s.indication is Indication.TOTAL_FAILED:
        head = f"{what_th}ของ {who} ไม่ถูกต้อง" if thai else f"The {what_en} of {who} FAILED"
    else:
        head = (f"ยังยืนยัน{what_th}ของ {who} ไม่ได้" if thai else f"The {what_en} of {who} cannot be confirmed")
    parts = [head]
    if s.sub_indication and s.indication is not Indication.TOTAL_PASSED:
        th, en = SUB_INDICATION_TEXT.get(s.sub_indication, (s.sub_indication, s.sub_indication))
        parts.append(th if thai else en)
    when = s.timestamp or s.signing_time
    if when:
        parts.append(f"ลงนามเมื่อ {_thai_iso(when)}" + ("" if s.timestamp else " (ตามที่ผู้ลงนามระบุ)") if thai
                     else f"signed at {when}" + ("" if s.timestamp else " (as claimed by the signer)"))
    # A broken hash or signature means the covered bytes changed: "no changes after signing" would contradict it.
    if s.modifications is not None and s.sub_indication not in CONTENT_BROKEN:
        parts.append(_MODIFICATIONS_TH[s.modifications] if thai else _MODIFICATIONS_EN[s.modifications])
    if s.revocation_status == "revoked":
        parts.append("ใบรับรองถูกเพิกถอน" if thai else "certificate revoked")
    if s.replaced_fields:
        names = ", ".join(s.replaced_fields[:5])
        parts.append(f"ช่องกรอกข้อมูล {names} แสดงข้อความต่างจากตอนลงนาม ทั้งที่ค่าในช่องไม่เปลี่ยน "
                     "(การปลอมแปลงแบบ shadow attack)" if thai else
                     f"form field(s) {names} show something other than when signed although their value is "
                     "the same (a shadow attack)")
    if s.not_covered:
        parts.append(not_covered_text(s.not_covered, thai=thai))
    return " — ".join(parts)


_PURPOSE = {
    "signature": ("ลายมือชื่อเพิ่มเติม", "a further signature"),
    "document_timestamp": ("ตราประทับเวลาของเอกสาร", "a document timestamp"),
    "validation_data": ("ข้อมูลเพื่อการตรวจสอบระยะยาว", "long-term validation data"),
    "metadata": ("ข้อมูลกำกับเอกสาร", "document metadata"),
    "other_changes": ("การแก้ไขอื่น", "other changes"),
    "unreadable": ("ส่วนที่อ่านไม่ได้", "an unreadable update"),
    "none": ("ไม่มีการเปลี่ยนแปลง", "nothing"),
}


def not_covered_text(parts: list[dict[str, Any]], *, thai: bool) -> str:
    """What a signature does not cover, in words: each later revision's purpose, and trailing data."""
    said = []
    for part in parts:
        if part.get("what") == "trailing_data":
            said.append(f"ข้อมูล {part['bytes']:,} ไบต์ต่อท้ายไฟล์ที่ไม่อยู่ในฉบับปรับปรุงใด และไม่มีลายมือชื่อใดครอบคลุม"
                        if thai else f"{part['bytes']:,} bytes of trailing data that belong to no revision "
                        "and that no signature covers")
        else:
            purposes = ", ".join(_PURPOSE.get(c, (c, c))[0 if thai else 1] for c in part.get("changes") or [])
            said.append(f"ฉบับปรับปรุงที่ {part.get('revision')} ({purposes})" if thai
                        else f"revision {part.get('revision')} ({purposes})")
    head = "ส่วนที่ลายมือชื่อนี้ไม่ครอบคลุม: " if thai else "not covered by this signature: "
    return head + "; ".join(said)


def _overall(r: Report, *, thai: bool) -> str:
    if r.problem and not r.signatures:
        th, en = SUB_INDICATION_TEXT.get(r.sub_indication or "GENERIC", SUB_INDICATION_TEXT["GENERIC"])
        return f"ตรวจสอบไม่ได้: {th}" if thai else f"Cannot validate: {en} ({r.problem})"
    n = len(r.signatures)
    if r.indication is Indication.TOTAL_PASSED:
        return f"ผลรวม: ลายมือชื่อทั้ง {n} รายการถูกต้อง" if thai else f"Overall: all {n} signatures are valid"
    if r.indication is Indication.TOTAL_FAILED:
        return ("ผลรวม: ไม่ผ่าน มีลายมือชื่อที่ไม่ถูกต้อง อย่าถือว่าเอกสารนี้ได้รับการลงนามโดยชอบ" if thai
                else "Overall: FAILED; at least one signature is invalid")
    return ("ผลรวม: ยังยืนยันไม่ได้ ต้องตรวจสอบเพิ่มเติม" if thai
            else "Overall: INDETERMINATE; it cannot be confirmed yet")
