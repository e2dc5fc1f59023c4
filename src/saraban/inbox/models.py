"""Incoming letters and what the receiving organisation does with them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from saraban.core.labels import Label
from saraban.regulation.kinds import Urgency


class IncomingSource(models.TextChoices):
    ELECTRONIC = "electronic", Label("อิเล็กทรอนิกส์", "Electronic")
    PAPER = "paper", Label("กระดาษ (สแกน)", "Paper (scanned)")


class IncomingStatus(models.TextChoices):
    DELIVERED = "delivered", Label("รอลงรับ", "Awaiting registration")
    REGISTERED = "registered", Label("ลงรับแล้ว", "Registered")
    ASSIGNED = "assigned", Label("เกษียนสั่งการแล้ว", "Endorsed and assigned")
    ACTED = "acted", Label("ดำเนินการแล้ว", "Acted on")
    CLOSED = "closed", Label("ปิดเรื่อง", "Closed")
    RETURNED = "returned", Label("ส่งคืนผู้ส่ง", "Returned to sender")


class IncomingLetter(models.Model):
    """A letter received by ``organisation``: delivered electronically, or a registered paper scan."""

    organisation = models.ForeignKey("directory.Organisation", on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=12, choices=IncomingSource.choices)
    dispatch = models.OneToOneField(
        "exchange.Dispatch", null=True, blank=True, on_delete=models.PROTECT, related_name="incoming"
    )
    # The exchange message it arrived in, when it came from another Saraban deployment.
    received_message = models.OneToOneField(
        "exchange.ReceivedMessage", null=True, blank=True, on_delete=models.PROTECT, related_name="incoming"
    )
    # The channel it came by when another system brought it (``exchange.channels``: "ecms"), and
    # that channel's reference to it, for the reports back to the sender.
    channel = models.CharField(max_length=20, blank=True, default="")
    channel_ref = models.CharField(max_length=64, blank=True, default="")
    sender_name = models.CharField(max_length=500)  # จาก
    sender_organisation = models.ForeignKey(
        "directory.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    letter_number = models.CharField(max_length=64, blank=True)  # ที่ (the sender's number)
    letter_date = models.DateField(null=True, blank=True)  # ลงวันที่
    subject = models.CharField(max_length=2000)
    addressed_to = models.CharField(max_length=1000, blank=True)  # ถึง
    urgency = models.CharField(max_length=20, default="normal")
    urgency_rank = models.PositiveSmallIntegerField(default=0)  # 3 ด่วนที่สุด … 0 normal: queues sort on it
    secrecy = models.CharField(max_length=20, default="normal")
    original = models.ForeignKey("documents.StoredFile", on_delete=models.PROTECT, related_name="+")
    # The registered copy with the receipt stamp (ตรารับ); the original is never changed.
    stamped = models.ForeignKey(
        "documents.StoredFile", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    enclosures = models.JSONField(default=list, blank=True)  # [{"title":..., "sha256":...}]
    status = models.CharField(max_length=12, choices=IncomingStatus.choices, default=IncomingStatus.DELIVERED)
    delivered_at = models.DateTimeField()
    opened_at = models.DateTimeField(null=True, blank=True)
    receive_entry = models.OneToOneField(
        "registers.RegisterEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    receive_number = models.PositiveIntegerField(null=True, blank=True)  # เลขรับ
    registered_at = models.DateTimeField(null=True, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    due_date = models.DateField(null=True, blank=True)  # the earliest due date of its open assignments
    returned_reason = models.TextField(blank=True)
    # The validation report of the signatures of ``original``, computed on delivery and kept as it was.
    validation = models.ForeignKey(
        "signatures.ValidationRecord", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["organisation", "status", "-urgency_rank", "due_date"]),
            # The inbox's order, so its first page is read off the index, whatever the statuses.
            models.Index(
                fields=["organisation", "-urgency_rank", "due_date", "-delivered_at"], name="inbox_queue_order"
            ),
            models.Index(fields=["organisation", "-delivered_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.letter_number} {self.subject}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.urgency_rank = Urgency(self.urgency).rank
        super().save(*args, **kwargs)


class Endorsement(models.Model):
    """เกษียนหนังสือ: an executive's instruction written on a received letter."""

    incoming = models.ForeignKey(IncomingLetter, on_delete=models.PROTECT, related_name="endorsements")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    position_title = models.CharField(max_length=255, blank=True)
    acting_line = models.CharField(max_length=255, blank=True)  # รักษาราชการแทน...
    instruction = models.TextField()  # e.g. "ทราบ มอบ กองคลัง ดำเนินการ"
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.instruction[:60]


class AssignmentStatus(models.TextChoices):
    OPEN = "open", Label("รอดำเนินการ", "Open")
    DONE = "done", Label("ดำเนินการแล้ว", "Done")


class Assignment(models.Model):
    """A unit or a person told to act on a received letter, with an optional due date."""

    incoming = models.ForeignKey(IncomingLetter, on_delete=models.PROTECT, related_name="assignments")
    endorsement = models.ForeignKey(Endorsement, on_delete=models.PROTECT, related_name="assignments")
    unit = models.ForeignKey(
        "directory.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=AssignmentStatus.choices, default=AssignmentStatus.OPEN)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(unit__isnull=False) | models.Q(assignee__isnull=False), name="assigned_to_someone"
            ),
        ]
        indexes = [models.Index(fields=["assignee", "status"]), models.Index(fields=["unit", "status"])]

    def __str__(self) -> str:
        return f"{self.incoming_id} → {self.unit_id or self.assignee_id} ({self.status})"
