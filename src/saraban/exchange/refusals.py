"""Why an exchange message is refused: one stable code per check, in Thai and English, with its HTTP status.

The receiver answers a refused message with a signed rejection envelope that carries the code
(``docs/exchange.md`` lists them). The checks of ``open_envelope`` run in the order of this table.
"""

from __future__ import annotations

from dataclasses import dataclass

from saraban.core.errors import SarabanError


@dataclass(frozen=True)
class RefusalText:
    """The HTTP status and the Thai and English message of one refusal code."""

    http_status: int
    message_th: str
    message_en: str


REFUSALS: dict[str, RefusalText] = {
    "exchange.too_large": RefusalText(
        413, "ข้อความมีขนาดใหญ่เกินกำหนด", "The message is larger than the receiver accepts"),
    "exchange.not_zip": RefusalText(
        400, "ข้อความไม่ใช่ไฟล์ ZIP ที่อ่านได้", "The message is not a readable ZIP file"),
    "exchange.too_many_parts": RefusalText(
        413, "ข้อความมีจำนวนไฟล์มากเกินกำหนด", "The message holds more files than the receiver accepts"),
    "exchange.bad_name": RefusalText(
        400, "ชื่อไฟล์ในข้อความไม่ถูกต้องหรือซ้ำกัน", "A file name in the message is unsafe or repeated"),
    "exchange.zip_bomb": RefusalText(
        413, "ข้อความเมื่อขยายแล้วมีขนาดใหญ่เกินกำหนด",
        "The message expands beyond the limit (uncompressed size or compression ratio)"),
    "exchange.not_asic": RefusalText(
        400, "ข้อความไม่ใช่ ASiC-E: ไฟล์ mimetype ต้องเป็นไฟล์แรก ไม่บีบอัด และมีค่า application/vnd.etsi.asic-e+zip",
        "Not an ASiC-E container: 'mimetype' must be the first entry, stored, "
        "holding application/vnd.etsi.asic-e+zip"),
    "exchange.bad_manifest": RefusalText(
        400, "ไม่พบ META-INF/ASiCManifest.xml หรือรูปแบบไม่ถูกต้อง",
        "META-INF/ASiCManifest.xml is missing or malformed"),
    "exchange.missing_part": RefusalText(
        400, "ไฟล์ที่ระบุในรายการ (manifest) ไม่มีอยู่ในข้อความ", "A file listed in the manifest is not in the message"),
    "exchange.unlisted_part": RefusalText(
        400, "ข้อความมีไฟล์ที่ไม่ได้ระบุในรายการ (manifest)", "The message holds a file the manifest does not list"),
    "exchange.digest_mismatch": RefusalText(
        400, "ค่า SHA-256 ของไฟล์ไม่ตรงกับรายการ (ไฟล์ถูกแก้ไข)",
        "A file does not match its SHA-256 in the manifest (it was altered)"),
    "exchange.bad_signature": RefusalText(
        403, "ลายมือชื่อดิจิทัลของข้อความไม่ถูกต้อง", "The message's signature is missing or not valid"),
    "exchange.unknown_signer": RefusalText(
        403, "ผู้ลงนามข้อความไม่ใช่ระบบที่ได้รับความเชื่อถือ (ใบรับรองไม่ตรงกับที่บันทึกไว้)",
        "The message is signed by a certificate that is not pinned for this peer"),
    "exchange.signer_not_valid": RefusalText(
        403, "ใบรับรองของผู้ลงนามหมดอายุหรือใช้ลงนามไม่ได้",
        "The signer's certificate is expired, not yet valid, or not usable for signing"),
    "exchange.bad_metadata": RefusalText(
        400, "ข้อมูลกำกับข้อความ (envelope.json) ไม่ครบถ้วนหรือไม่ถูกต้อง",
        "envelope.json is missing, malformed or lacks a required field"),
    "exchange.sender_mismatch": RefusalText(
        403, "ผู้ส่งที่ระบุในข้อความไม่ตรงกับผู้ลงนาม",
        "The sender named in the message is not the deployment that signed it"),
    # Checked by the receiver after open_envelope (the outbox/receiver layer raises them with refused()).
    "exchange.unknown_recipient": RefusalText(
        400, "ไม่พบหน่วยงานผู้รับในระบบปลายทาง", "The recipient organisation is not hosted by this deployment"),
    "exchange.secrecy_refused": RefusalText(
        403, "ระบบปลายทางไม่รับหนังสือชั้นความลับนี้ทางอิเล็กทรอนิกส์",
        "The receiver does not accept letters of this secrecy level electronically"),
    "exchange.wrong_deployment": RefusalText(
        400, "ข้อความนี้ไม่ได้ส่งถึงระบบนี้", "The message is addressed to another deployment"),
    "exchange.unknown_message": RefusalText(
        400, "ไม่พบหนังสือที่ใบตอบรับนี้อ้างถึง", "The receipt answers a letter this deployment did not send"),
    "exchange.unsupported_kind": RefusalText(
        400, "ระบบปลายทางไม่รับข้อความประเภทนี้", "The receiver does not accept messages of this kind here"),
    "exchange.unsupported_media_type": RefusalText(
        415, "ข้อความต้องส่งเป็น application/vnd.etsi.asic-e+zip",
        "The message must be sent as application/vnd.etsi.asic-e+zip"),
    "exchange.bad_batch": RefusalText(
        400, "ชุดข้อความ (multipart/mixed) มีรูปแบบไม่ถูกต้อง", "The batch of messages (multipart/mixed) is malformed"),
    "exchange.bad_directory": RefusalText(
        400, "เอกสารทำเนียบหน่วยงาน (directory.json) ไม่ถูกต้อง", "The directory document is malformed"),
}


def _clip(text: str, limit: int = 160) -> str:
    """A detail as it may be shown: control characters removed, at most ``limit`` characters."""
    clean = "".join(c if c.isprintable() else "?" for c in text)
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


class EnvelopeRefused(SarabanError):
    """A message refused by one of the checks of ``open_envelope`` (or by the receiver after it).

    ``code`` is one of ``REFUSALS``; ``detail`` says which part or field (never a traceback). The
    subclasses carry the HTTP status; build one with ``refused(code, detail)``.
    """

    http_status = 400

    def __init__(self, code: str, detail: str = "", detail_th: str | None = None) -> None:
        text = REFUSALS[code]
        detail = _clip(detail)
        th_detail = _clip(detail_th) if detail_th is not None else detail
        super().__init__(
            code=code,
            message_th=f"{text.message_th}: {th_detail}" if th_detail else text.message_th,
            message_en=f"{text.message_en}: {detail}" if detail else text.message_en,
        )
        self.detail = detail


class EnvelopeForbidden(EnvelopeRefused):
    """A refusal about who signed or sent the message (403)."""

    http_status = 403


class EnvelopeTooLarge(EnvelopeRefused):
    """A refusal about the size of the message (413)."""

    http_status = 413


class EnvelopeUnsupported(EnvelopeRefused):
    """A message sent with a content type the receiver does not read (415)."""

    http_status = 415


_CLASSES: dict[int, type[EnvelopeRefused]] = {
    400: EnvelopeRefused, 403: EnvelopeForbidden, 413: EnvelopeTooLarge, 415: EnvelopeUnsupported,
}


def refused(code: str, detail: str = "", detail_th: str | None = None) -> EnvelopeRefused:
    """The refusal ``code`` (a key of ``REFUSALS``) with a detail, as the error class of its HTTP status."""
    return _CLASSES[REFUSALS[code].http_status](code, detail, detail_th)
