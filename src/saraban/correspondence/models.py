"""An official letter as stored: its content (``LetterContent`` as JSON) and the columns we query on."""

from __future__ import annotations

from enum import StrEnum

from django.conf import settings
from django.db import models

from saraban.core.labels import Label
from saraban.regulation.content import LetterContent
from saraban.regulation.kinds import LetterSubtype, LetterType, Secrecy, Urgency


class LetterStatus(models.TextChoices):
    DRAFT = "draft", Label("ร่าง", "Draft")
    IN_REVIEW = "in_review", Label("รอตรวจสอบ", "In review")
    APPROVED = "approved", Label("อนุมัติแล้ว", "Approved")
    SIGNED = "signed", Label("ลงนามแล้ว", "Signed")
    NUMBERED = "numbered", Label("ออกเลขแล้ว", "Numbered")
    SENT = "sent", Label("ส่งแล้ว", "Sent")
    CLOSED = "closed", Label("ปิดเรื่อง", "Closed")
    CANCELLED = "cancelled", Label("ยกเลิก", "Cancelled")
    SUPERSEDED = "superseded", Label("มีฉบับแก้ไขแทน", "Superseded")


NUMBERED_STATUSES = (LetterStatus.NUMBERED, LetterStatus.SENT, LetterStatus.CLOSED, LetterStatus.SUPERSEDED)


def _choices(enum: type[StrEnum]) -> list[tuple[str, str]]:
    return [(member.value, getattr(member, "label_th", "") or member.value) for member in enum]


class Letter(models.Model):
    """An official letter written by an organisation."""

    organisation = models.ForeignKey("directory.Organisation", on_delete=models.PROTECT, related_name="+")
    owner_unit = models.ForeignKey(
        "directory.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    content = models.JSONField()  # LetterContent; the single source of what the letter says
    # Copies of content fields, kept in step by the services, for lists, search and registers.
    type = models.CharField(max_length=20, choices=_choices(LetterType))
    subtype = models.CharField(max_length=20, choices=_choices(LetterSubtype), blank=True)
    subject = models.CharField(max_length=2000)
    number = models.CharField(max_length=64, blank=True, db_index=True)
    date = models.DateField(null=True, blank=True)
    urgency = models.CharField(max_length=20, choices=_choices(Urgency), default=Urgency.NORMAL)
    urgency_rank = models.PositiveSmallIntegerField(default=0)  # 3 ด่วนที่สุด … 0 normal: queues sort on it
    secrecy = models.CharField(max_length=20, choices=_choices(Secrecy), default=Secrecy.NORMAL)
    circular = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=LetterStatus.choices, default=LetterStatus.DRAFT)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    # Who signs it (chosen when it is submitted); an acting official may sign in their place.
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The last reviewer's reason for sending it back, shown to the author until resubmitted.
    returned_comment = models.TextField(blank=True)
    # The rendered PDF of the letter as it stands (re-rendered when it changes).
    pdf = models.ForeignKey("documents.StoredFile", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["organisation", "status"]),
            models.Index(fields=["organisation", "date"]),
            models.Index(fields=["created_by", "status", "-updated_at"], name="letter_drafts_of_author"),
        ]

    def __str__(self) -> str:
        return f"{self.number or '(ร่าง)'} {self.subject}"

    @property
    def letter_content(self) -> LetterContent:
        """The content as a validated ``LetterContent``."""
        return LetterContent.model_validate(self.content)

    @property
    def is_numbered(self) -> bool:
        return self.status in NUMBERED_STATUSES


class RecipientKind(models.TextChoices):
    TO = "to", Label("ผู้รับ", "To")
    CC = "cc", Label("สำเนาส่ง", "Copy")


class LetterRecipient(models.Model):
    """An organisation the letter is sent to (or a copy to), in the order they are listed."""

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="recipients")
    organisation = models.ForeignKey("directory.Organisation", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=2, choices=RecipientKind.choices, default=RecipientKind.TO)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["letter", "organisation"], name="one_recipient_entry_per_org"),
        ]

    def __str__(self) -> str:
        return f"{self.letter_id} → {self.organisation_id} ({self.kind})"


class ReviewStatus(models.TextChoices):
    PENDING = "pending", Label("รอตรวจ", "Pending")
    APPROVED = "approved", Label("ผ่าน", "Approved")
    RETURNED = "returned", Label("ส่งกลับแก้ไข", "Returned")
    WITHDRAWN = "withdrawn", Label("ยกเลิกรอบนี้", "Withdrawn")


class ReviewStep(models.Model):
    """One reviewer's turn (ตรวจ/กลั่นกรอง), in order; a returned letter starts a new round."""

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="review_steps")
    round = models.PositiveSmallIntegerField(default=1)
    position = models.PositiveSmallIntegerField()
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.PENDING)
    comment = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["round", "position"]
        indexes = [models.Index(fields=["reviewer", "status"])]

    def __str__(self) -> str:
        return f"{self.letter_id} r{self.round}#{self.position} {self.reviewer_id} {self.status}"
