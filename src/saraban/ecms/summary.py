"""An e-CMS message in lines a person reads (``saraban ecms parse``): labels in Thai and English."""

from __future__ import annotations

import hashlib

from saraban.regulation.kinds import Secrecy, Urgency

from .codes import UnknownCode, secrecy_of, speed_codes, urgency_of
from .messages import OPERATIONS, BinaryPart, GovernmentDocument, Message, Notifier, Party

_ROWS_SHOWN = 5  # of an organisation, ministry or status list

_NOTIFIERS = {
    "ReceiveLetterNotifier": ("ตอบรับหนังสือ", "letter received"),
    "AcceptLetterNotifier": ("แจ้งเลขรับ", "letter registered, with its registration number"),
    "RejectLetterNotifier": ("ปฏิเสธการรับหนังสือ", "letter refused"),
    "InvalidLetterNotifier": ("แจ้งหนังสือผิด", "letter reported wrong"),
    "InvalidAcceptIDNotifier": ("แจ้งเลขรับผิด", "registration number reported wrong"),
}


def summary(message: Message) -> list[str]:
    """The message in lines a person reads: each label in Thai and English, the values as sent."""
    th, en = OPERATIONS[message.operation]
    lines = [f"การดำเนินการ / operation: {message.operation} ({th} / {en})"]
    lines += _fields(("รหัสข้อความ / message id", message.message_id), ("ปลายทาง / to", message.to),
                     ("ตอบข้อความ / relates to", message.relates_to),
                     ("รหัสรายการ / process id", message.process_id),
                     ("เวลาดำเนินการ / process time", message.process_time), indent="")
    if message.is_empty:
        lines.append("ไม่มีรายการรอรับ / nothing queued")
    if message.document is not None:
        lines += _letter(message.document)
    if message.notifier is not None:
        lines += _notifier(message.notifier)
    if message.withdrawal is not None:
        w = message.withdrawal
        lines.append("ถอนหนังสือ / withdrawal")
        lines += _fields(("ที่ / letter number", w.letter_id), ("ลงวันที่ / date", w.date),
                         ("หน่วยงานผู้ส่ง / sender department", w.sender_department),
                         ("หน่วยงานผู้รับ / receiving department", w.accept_department))
    if message.fault is not None:
        f = message.fault
        lines.append(f"ข้อผิดพลาด / fault: {f.code or '-'}: {f.description or '-'}"
                     + (f" (faultcode {f.fault_code})" if f.fault_code and f.fault_code != f.code else ""))
    lines += _rows("สถานะหนังสือส่ง / sent letters", [
        f"{o.process_id}  {o.letter_id}  {o.status}" for o in message.outbound])
    lines += _rows("หน่วยงาน / organisations", [
        f"{o.organization_id}  {o.th_name} / {o.en_name}  {o.ecms_url}"
        + (f"  (กระทรวง / ministry {o.ministry_id})" if o.ministry_id else "") for o in message.organizations])
    lines += _rows("กระทรวง / ministries", [f"{m.ministry_id}  {m.th_name}" for m in message.ministries])
    return lines


def _fields(*pairs: tuple[str, str], indent: str = "  ") -> list[str]:
    return [f"{indent}{label}: {value}" for label, value in pairs if value]


def _rows(title: str, rows: list[str]) -> list[str]:
    if not rows:
        return []
    lines = [f"{title}: {len(rows)}", *(f"  {row}" for row in rows[:_ROWS_SHOWN])]
    if len(rows) > _ROWS_SHOWN:
        lines.append(f"  … อีก {len(rows) - _ROWS_SHOWN} รายการ / {len(rows) - _ROWS_SHOWN} more")
    return lines


def _letter(document: GovernmentDocument) -> list[str]:
    lines = ["หนังสือ / letter"]
    lines += _fields(("ที่ / number", document.letter_id), ("ลงวันที่ / date", document.date),
                     ("เรื่อง / subject", document.subject))
    lines.append(f"  ชั้นความลับ / secrecy: {_secrecy(document.secret_code)}")
    lines.append(f"  ชั้นความเร็ว / urgency: {_urgency(document.speed_code)}")
    lines += _fields(("จาก / sender", _party(document.sender)), ("ถึง / receiver", _party(document.receiver)))
    lines += [f"  อ้างถึง / reference: {r.letter_id} ลงวันที่ / dated {r.date or '-'}: {r.subject}"
              for r in document.references]
    lines += _fields(("สิ่งที่ส่งมาด้วย / enclosures", document.attachment_text),
                     ("วันที่ส่ง / sent at", document.send_date), ("รายละเอียด / description", document.description))
    if document.main_letter is None:
        lines.append("  หนังสือหลัก / main letter: ไม่มี / none")
    else:
        lines.append(f"  หนังสือหลัก / main letter: {_part(document.main_letter)}")
    lines += [f"  ไฟล์แนบ {i} / attachment {i}: {_part(p)}" for i, p in enumerate(document.attachments, start=1)]
    if document.signature_type or document.signer != Party():
        lines.append(f"  ลงนาม / signed: {_party(document.signer) or '-'}"
                     + (f" (TypeCode {document.signature_type})" if document.signature_type else ""))
    if document.xml_signature is not None:
        s = document.xml_signature
        lines.append(f"  ลายมือชื่อ XML / XML signature: {s.subject_name or '-'} (Reference {s.reference_uri or '-'})")
    return lines


def _notifier(notifier: Notifier) -> list[str]:
    th, en = _NOTIFIERS[notifier.kind]
    lines = [f"หนังสือแจ้ง / notifier: {notifier.kind} ({th} / {en})"]
    lines += _fields(("ที่ / letter number", notifier.letter_id), ("ลงวันที่ / date", notifier.date),
                     ("เรื่อง / subject", notifier.subject), ("เลขรับ / registration number", notifier.accept_id),
                     ("วันที่รับ / received on", notifier.accept_date),
                     ("หน่วยงานผู้รับ / receiving department", notifier.accept_department),
                     ("เหตุผล / reason", notifier.description))
    return lines


def _party(party: Party) -> str:
    name = " ".join(p for p in (party.given_name, party.family_name) if p)
    who = ", ".join(p for p in (name, party.job_title) if p)
    where = ", ".join(p for p in (f"กรม / department {party.department_id}" if party.department_id else "",
                                  f"กระทรวง / ministry {party.ministry_id}" if party.ministry_id else "") if p)
    return " — ".join(p for p in (where, who) if p)


def _part(part: BinaryPart) -> str:
    name = f"{part.filename}, " if part.filename else ""
    return f"{name}{part.mime or '-'}, {len(part.data):,} ไบต์ / bytes, SHA-256 {hashlib.sha256(part.data).hexdigest()}"


def _secrecy(code: str) -> str:
    try:
        level = Secrecy(secrecy_of(code))
    except UnknownCode:
        return f"{code or '-'} → ไม่รู้จัก / unknown (Saraban would refuse this letter)"
    return f"{code} → {level.value}" + (f" ({level.label_th})" if level.label_th else " (ปกติ)")


def _urgency(code: str) -> str:
    level = Urgency(urgency_of(code))
    known = code.strip().zfill(3) in {c.zfill(3) for c in speed_codes().values()}
    label = f" ({level.label_th})" if level.label_th else " (ปกติ)"
    return f"{code or '-'} → {level.value}{label}" + ("" if known else " — ไม่รู้จัก ถือเป็นปกติ / unknown, taken as normal")
