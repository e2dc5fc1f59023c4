"""The e-mail of a letter (หนังสือทางไปรษณีย์อิเล็กทรอนิกส์): a Thai body naming it, the PDF as signed, the enclosures.

Attachment names follow one pattern, ``<ที่>.pdf`` and ``<ที่>_สิ่งที่ส่งมาด้วย<n>_<file>`` with the
characters mail clients mangle replaced; the naming standard of ภาคผนวก ๗ is unconfirmed [M], so
the pattern is the setting ``SARABAN_MAIL["file_name"]`` ({number}, {date} and {n} available).
A DKIM signature is added when the account has a key (dkimpy).
"""

from __future__ import annotations

import re
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

import dkim
from django.conf import settings
from django.utils import timezone

from saraban.core.secrets import unseal
from saraban.core.thai import format_thai_date
from saraban.documents.models import StoredFile
from saraban.documents.services import read_file
from saraban.exchange.delivery import OutgoingLetter
from saraban.regulation.kinds import Urgency

from .models import MailAccount

DKIM_PURPOSE = "mail.dkim_key"
_UNSAFE = re.compile(r'[\\/:*?"<>|\s]+')
_SIGNED_HEADERS = [b"from", b"to", b"subject", b"date", b"message-id", b"mime-version", b"content-type"]
_URGENCY_TH = {Urgency.URGENT: "ด่วน", Urgency.VERY_URGENT: "ด่วนมาก", Urgency.MOST_URGENT: "ด่วนที่สุด"}


def safe_name(text: str) -> str:
    """``text`` as part of a file name: no path separators, quotes or spaces (Thai is kept)."""
    return _UNSAFE.sub("-", text.strip()).strip("-.") or "letter"


def attachment_name(number: str, date: str, n: int = 0, original: str = "") -> str:
    """The file name of the letter (``n`` 0) or of its ``n``-th enclosure."""
    pattern = str(getattr(settings, "SARABAN_MAIL", {}).get("file_name") or "{number}")
    stem = safe_name(pattern.format(number=number, date=date, n=n))
    if n == 0:
        return f"{stem}.pdf"
    return f"{stem}_สิ่งที่ส่งมาด้วย{n}" + (f"_{safe_name(original)}" if original else "")


def _body(outgoing: OutgoingLetter, recipient_name: str, names: list[str]) -> str:
    letter = outgoing.letter
    content = letter.letter_content
    sender = content.issuer.name or letter.organisation.name_th
    date = format_thai_date(letter.date or timezone.localdate(), use_thai_digits=letter.organisation.thai_digits)
    lines = [
        f"เรียน {content.recipient or recipient_name}", "",
        f"{sender} ขอส่งหนังสือ ที่ {letter.number} ลงวันที่ {date} เรื่อง {letter.subject} มาพร้อมนี้ "
        "รายละเอียดปรากฏตามไฟล์ที่แนบ", "",
        "ไฟล์ที่แนบ",
        *(f"{i}. {name}" for i, name in enumerate(names, start=1)), "",
        "จึงเรียนมาเพื่อโปรดทราบ", "",
        sender,
    ]
    if content.owner_unit:
        lines.append(content.owner_unit)
    if content.phone:
        lines.append(f"โทร. {content.phone}")
    lines += ["", "—", f"หนังสือฉบับนี้ส่งจากระบบสารบรรณอิเล็กทรอนิกส์ของ{sender} ทางที่อยู่อีเมลกลางของหน่วยงาน "
                  "ตามระเบียบสำนักนายกรัฐมนตรีว่าด้วยงานสารบรรณ (ฉบับที่ ๔) พ.ศ. ๒๕๖๔ "
                  "ไฟล์หนังสือที่แนบเป็นฉบับเดียวกับที่ลงนาม"]
    return "\n".join(lines) + "\n"


def compose(account: MailAccount, outgoing: OutgoingLetter, *, to: str, recipient_name: str) -> tuple[str, bytes]:
    """The e-mail of ``outgoing`` to ``to``: its Message-ID (no brackets) and its bytes, DKIM-signed if set up."""
    letter = outgoing.letter
    date = (letter.date or timezone.localdate()).isoformat()
    message = EmailMessage(policy=policy.SMTP)
    domain = account.address.rpartition("@")[2] or "saraban.invalid"
    message_id = make_msgid(domain=domain)
    sender_name = letter.organisation.name_th
    urgency = _URGENCY_TH.get(Urgency(letter.urgency))
    message["From"] = formataddr((sender_name, account.address))
    message["To"] = formataddr((recipient_name, to))
    message["Subject"] = (f"[{urgency}] " if urgency else "") + f"ที่ {letter.number} เรื่อง {letter.subject}"
    message["Date"] = format_datetime(timezone.localtime())
    message["Message-ID"] = message_id
    message["X-Saraban-Letter"] = letter.number
    files = [(attachment_name(letter.number, date), "application/pdf", outgoing.pdf)]
    for n, enclosure in enumerate(outgoing.enclosures, start=1):
        sha256 = enclosure["sha256"]
        if sha256:
            stored = StoredFile.objects.get(pk=sha256)
            files.append((attachment_name(letter.number, date, n, enclosure["filename"] or str(enclosure["title"])),
                          stored.content_type or "application/octet-stream", read_file(sha256)))
    message.set_content(_body(outgoing, recipient_name, [name for name, _, _ in files]))
    for name, content_type, data in files:
        maintype, _, subtype = content_type.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype or "octet-stream", filename=name)
    raw = message.as_bytes()
    if account.dkim_domain and account.dkim_selector and account.dkim_key_sealed:
        key = unseal(account.dkim_key_sealed, DKIM_PURPOSE).encode()
        signature = dkim.sign(raw, account.dkim_selector.encode(), account.dkim_domain.encode(), key,
                              include_headers=_SIGNED_HEADERS)
        raw = signature + raw
    return message_id.strip("<>"), raw


RECEIPT_HEADER = "X-Saraban-Receipt"
REASON_HEADER = "X-Saraban-Reason"


def compose_receipt(account: MailAccount, *, to: str, original_id: str, number: str, subject: str, status: str,
                    receive_number: str = "", registered_on: str = "", reason: str = "") -> tuple[str, bytes]:
    """ตอบรับ: the reply that tells the sender of a letter we read what became of it (its Message-ID, bytes).

    ``X-Saraban-Receipt`` carries it for software (``registered; receive-number=12; date=2026-12-07`` or
    ``returned``); the Thai body says the same to a person.
    """
    message = EmailMessage(policy=policy.SMTP)
    domain = account.address.rpartition("@")[2] or "saraban.invalid"
    message_id = make_msgid(domain=domain)
    ours = account.organisation.name_th
    message["From"] = formataddr((ours, account.address))
    message["To"] = to
    message["Subject"] = f"ตอบรับ: ที่ {number} เรื่อง {subject}" if number else f"ตอบรับ: {subject}"
    message["Date"] = format_datetime(timezone.localtime())
    message["Message-ID"] = message_id
    message["In-Reply-To"] = f"<{original_id}>"
    message["References"] = f"<{original_id}>"
    if status == "registered":
        message[RECEIPT_HEADER] = f"registered; receive-number={receive_number}; date={registered_on}"
        said = f"ได้รับหนังสือ{f' ที่ {number}' if number else ''} เรื่อง {subject} แล้ว ลงทะเบียนรับเลขที่ {receive_number}"
    else:
        message[RECEIPT_HEADER] = "returned"
        message[REASON_HEADER] = reason[:500]
        said = f"ขอส่งคืนหนังสือ{f' ที่ {number}' if number else ''} เรื่อง {subject} เนื่องจาก {reason}"
    message.set_content(f"{said}\n\n{ours}\n\n—\nข้อความนี้ส่งจากระบบสารบรรณอิเล็กทรอนิกส์ของ{ours}\n")
    return message_id.strip("<>"), message.as_bytes()
