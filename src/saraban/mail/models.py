"""The central e-mail channel's records: each organisation's mailbox account, what we send and what we read.

The 2021 amendment (ฉบับที่ ๔) lets an agency that has no e-Saraban correspond through its central
e-mail address. Letters to such agencies leave as e-mail (``MailOutbound``, an outbox written in the
send transaction, posted by the pump over SMTP); the organisation's central mailbox is read over IMAP
(``MailInbound``, once per message: its Message-ID and its UID), each letter kept byte for byte.
"""

from __future__ import annotations

from django.db import models

from saraban.core.labels import Label


class Security(models.TextChoices):
    SSL = "ssl", Label("SSL/TLS", "SSL/TLS")  # implicit TLS (465, 993)
    STARTTLS = "starttls", Label("STARTTLS", "STARTTLS")
    NONE = "none", Label("ไม่เข้ารหัส (เฉพาะเครือข่ายภายใน)", "None (internal networks only)")


class MailAccount(models.Model):
    """An organisation's central e-mail address and how to send from it and read it.

    The passwords and the DKIM key are sealed (``saraban.core.secrets``), never kept in clear.
    """

    organisation = models.OneToOneField("directory.Organisation", on_delete=models.PROTECT, related_name="+")
    address = models.EmailField()  # the central address letters are sent from and received at
    smtp_host = models.CharField(max_length=255)
    smtp_port = models.PositiveIntegerField(default=587)
    smtp_security = models.CharField(max_length=10, choices=Security.choices, default=Security.STARTTLS)
    smtp_username = models.CharField(max_length=255, blank=True)
    smtp_password_sealed = models.TextField(blank=True)
    imap_host = models.CharField(max_length=255, blank=True)  # "": letters are not read here
    imap_port = models.PositiveIntegerField(default=993)
    imap_security = models.CharField(max_length=10, choices=Security.choices, default=Security.SSL)
    imap_username = models.CharField(max_length=255, blank=True)
    imap_password_sealed = models.TextField(blank=True)
    imap_folder = models.CharField(max_length=255, default="INBOX")
    dkim_domain = models.CharField(max_length=255, blank=True)  # "": not signed
    dkim_selector = models.CharField(max_length=63, blank=True)
    dkim_key_sealed = models.TextField(blank=True)  # PEM private key, sealed
    is_active = models.BooleanField(default=True)
    # Where the reading stopped: the mailbox's UIDVALIDITY and the last UID taken.
    uid_validity = models.PositiveBigIntegerField(null=True, blank=True)
    last_uid = models.PositiveBigIntegerField(default=0)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.address


class OutboundStatus(models.TextChoices):
    PENDING = "pending", Label("รอส่ง", "Waiting")
    SENT = "sent", Label("เครื่องบริการอีเมลรับแล้ว", "Accepted by the mail server")
    BOUNCED = "bounced", Label("อีเมลตีกลับ", "Bounced")
    REFUSED = "refused", Label("เครื่องบริการอีเมลไม่รับ", "Refused by the mail server")
    GIVEN_UP = "given_up", Label("เลิกส่งแล้ว", "Given up")
    CANCELLED = "cancelled", Label("ยกเลิกแล้ว", "Cancelled")


class MailOutbound(models.Model):
    """One e-mail we send: a letter to a recipient's central address, or a receipt for a letter we read.

    Kept until a mail server took it; a receipt (ตอบรับ: registered with our เลขรับ, or returned) names
    the letter's Message-ID in In-Reply-To and says what happened in ``X-Saraban-Receipt``.
    """

    account = models.ForeignKey(MailAccount, on_delete=models.PROTECT, related_name="outbound")
    kind = models.CharField(max_length=10, default="letter")  # letter | receipt
    dispatch = models.ForeignKey(  # a letter: the dispatch it carries
        "exchange.Dispatch", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    inbound = models.ForeignKey(  # a receipt: the message it answers
        "MailInbound", null=True, blank=True, on_delete=models.PROTECT, related_name="receipts"
    )
    receipt_status = models.CharField(max_length=12, blank=True)  # registered | returned
    recipient = models.EmailField()
    message_id = models.CharField(max_length=255, unique=True)  # its Message-ID, without the angle brackets
    eml = models.ForeignKey("documents.StoredFile", on_delete=models.PROTECT, related_name="+")  # as sent
    status = models.CharField(max_length=10, choices=OutboundStatus.choices, default=OutboundStatus.PENDING)
    created_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    smtp_reply = models.CharField(max_length=500, blank=True)  # the server's answer to the message
    sent_at = models.DateTimeField(null=True, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    bounce_reason = models.TextField(blank=True)
    give_up_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.message_id} → {self.recipient}: {self.status}"


class InboundOutcome(models.TextChoices):
    DELIVERED = "delivered", Label("เข้าหนังสือรับแล้ว", "In the inbox")
    DUPLICATE = "duplicate", Label("ซ้ำกับที่รับไว้แล้ว", "A copy of one already read")
    BOUNCE = "bounce", Label("อีเมลตีกลับของหนังสือที่ส่ง", "A bounce of a letter we sent")
    RECEIPT = "receipt", Label("ตอบรับหนังสือที่ส่ง", "A receipt for a letter we sent")
    SPAM = "spam", Label("กักไว้: อีเมลขยะ", "Quarantined: spam")
    TOO_LARGE = "too_large", Label("กักไว้: ใหญ่เกินกำหนด (อยู่ในกล่องจดหมาย)", "Quarantined: too large (left in the mailbox)")
    NO_LETTER = "no_letter", Label("กักไว้: ไม่มีไฟล์หนังสือ PDF", "Quarantined: no PDF letter attached")


class MailInbound(models.Model):
    """One message read from an organisation's central mailbox, kept once (its Message-ID, its UID)."""

    account = models.ForeignKey(MailAccount, on_delete=models.PROTECT, related_name="inbound")
    uid_validity = models.PositiveBigIntegerField()
    uid = models.PositiveBigIntegerField()
    message_id = models.CharField(max_length=255, blank=True)
    from_address = models.CharField(max_length=320, blank=True)
    reply_to = models.EmailField(blank=True)  # where a receipt goes: Reply-To, else From
    subject = models.CharField(max_length=2000, blank=True)
    letter_number = models.CharField(max_length=64, blank=True)  # ที่, when the subject names it
    letter_subject = models.CharField(max_length=2000, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    eml = models.ForeignKey(  # the message byte for byte (None: too large, left in the mailbox)
        "documents.StoredFile", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(max_length=10, choices=InboundOutcome.choices)
    detail = models.TextField(blank=True)
    incoming_id = models.PositiveBigIntegerField(null=True, blank=True)  # the inbox entry it became
    received_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "uid_validity", "uid"], name="mail_inbound_uid_once"),
        ]
        indexes = [models.Index(fields=["account", "message_id"])]

    def __str__(self) -> str:
        return f"{self.message_id or self.uid} from {self.from_address}: {self.outcome}"
