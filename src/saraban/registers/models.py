"""Register books and their entries.

A book belongs to one organisation, one kind and one calendar year (Asia/Bangkok); its running
number starts at 1 on 1 January. Entries are never deleted; a cancelled number stays, marked ยกเลิก.
How numbers are drawn without gaps or duplicates is explained in ``numbering.py``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from saraban.core.labels import Label, pair


class BookKind(models.TextChoices):
    SEND = "send", Label("ทะเบียนหนังสือส่ง", "Send register")
    RECEIVE = "receive", Label("ทะเบียนหนังสือรับ", "Receive register")
    SEND_CLASSIFIED = "send_classified", Label("ทะเบียนหนังสือส่ง (ลับ)", "Classified send register")
    RECEIVE_CLASSIFIED = "receive_classified", Label("ทะเบียนหนังสือรับ (ลับ)", "Classified receive register")
    CIRCULAR = "circular", Label("ทะเบียนหนังสือเวียน (ว)", "Circulars register")
    ORDER = "order", Label("ทะเบียนคำสั่ง", "Orders register")
    ANNOUNCEMENT = "announcement", Label("ทะเบียนประกาศ", "Announcements register")

    @property
    def is_receive(self) -> bool:
        return self in (BookKind.RECEIVE, BookKind.RECEIVE_CLASSIFIED)

    @property
    def title_th(self) -> str:
        return pair(self.label)[0]


class RegisterBook(models.Model):
    """One register of one organisation for one calendar year."""

    organisation = models.ForeignKey("directory.Organisation", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=BookKind.choices)
    year = models.PositiveSmallIntegerField()  # Gregorian calendar year (printed as พ.ศ.)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "kind", "year"], name="one_book_per_org_kind_year"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.year + 543} — {self.organisation_id}"


class EntryStatus(models.TextChoices):
    ACTIVE = "active", Label("ใช้งาน", "Active")
    CANCELLED = "cancelled", Label("ยกเลิก", "Cancelled")
    # จองเลข: drawn for a letter being signed with PKI; active once the signed PDF is recorded,
    # cancelled (ยกเลิก) if the signing fails. The number is never given to anything else.
    RESERVED = "reserved", Label("จองเลข (กำลังลงนาม)", "Reserved (being signed)")


class RegisterEntry(models.Model):
    """One line of a register, with the columns of แบบที่ ๑๒ / ๑๔."""

    book = models.ForeignKey(RegisterBook, on_delete=models.PROTECT, related_name="entries")
    number = models.PositiveIntegerField()  # เลขทะเบียนส่ง / เลขทะเบียนรับ
    # How the letter's number is written once the register number is known, e.g. "นร 0105/{n}".
    number_template = models.CharField(max_length=80, blank=True)
    registered_at = models.DateTimeField()  # วันที่ลงทะเบียน
    letter_number = models.CharField(max_length=64, blank=True)  # ที่
    letter_date = models.DateField(null=True, blank=True)  # ลงวันที่
    sender = models.CharField(max_length=500, blank=True)  # จาก
    recipient = models.CharField(max_length=1000, blank=True)  # ถึง
    subject = models.CharField(max_length=1000, blank=True)  # เรื่อง
    action = models.CharField(max_length=1000, blank=True)  # การปฏิบัติ
    remarks = models.CharField(max_length=1000, blank=True)  # หมายเหตุ
    letter = models.ForeignKey(
        "correspondence.Letter", null=True, blank=True, on_delete=models.PROTECT, related_name="register_entries"
    )
    status = models.CharField(max_length=10, choices=EntryStatus.choices, default=EntryStatus.ACTIVE)
    cancelled_reason = models.CharField(max_length=500, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["book", "number"], name="one_entry_per_number")]
        indexes = [
            models.Index(fields=["book", "registered_at"]),
            models.Index(fields=["letter_number"]),
        ]
        ordering = ["book", "number"]

    def __str__(self) -> str:
        return f"{self.book_id}#{self.number}"
