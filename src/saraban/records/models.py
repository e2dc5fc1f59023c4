"""The file plan, cases, records with their retention, and legal holds."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from saraban.core.labels import Label

from .retention import RetentionClass


class FilePlanEntry(models.Model):
    """One file (แฟ้ม) of an organisation's file plan: a node of its classification tree.

    Its retention is the default of the records filed under it.
    """

    organisation = models.ForeignKey("directory.Organisation", on_delete=models.PROTECT, related_name="+")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    code = models.CharField(max_length=40)  # e.g. "01.02"; unique in the organisation
    title = models.CharField(max_length=300)
    retention_class = models.CharField(max_length=10, choices=RetentionClass.choices,
                                       default=RetentionClass.TEN_YEARS)
    retention_years = models.PositiveSmallIntegerField(null=True, blank=True)  # for "law" only
    legal_basis = models.CharField(max_length=300, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = "แฟ้ม / file"
        constraints = [models.UniqueConstraint(fields=["organisation", "code"], name="records_file_code_once")]
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class CaseStage(models.TextChoices):
    """The three kinds of storage of ข้อ 52."""

    IN_PROGRESS = "in_progress", Label("เก็บระหว่างปฏิบัติ", "in progress")
    COMPLETED = "completed", Label("เก็บเมื่อปฏิบัติเสร็จแล้ว", "completed")
    AUDIT = "audit", Label("เก็บไว้เพื่อใช้ในการตรวจสอบ", "kept for audit")


class Case(models.Model):
    """A case (เรื่อง): a letter with its replies, endorsements and enclosures, in one file."""

    organisation = models.ForeignKey("directory.Organisation", on_delete=models.PROTECT, related_name="+")
    file = models.ForeignKey(FilePlanEntry, on_delete=models.PROTECT, related_name="cases")
    title = models.CharField(max_length=500)
    stage = models.CharField(max_length=12, choices=CaseStage.choices, default=CaseStage.IN_PROGRESS)
    opened_at = models.DateTimeField()
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "เรื่อง / case"

    def __str__(self) -> str:
        return self.title


class RecordKind(models.TextChoices):
    OUTGOING = "out", Label("หนังสือส่ง", "sent")
    INCOMING = "in", Label("หนังสือรับ", "received")


class RecordStatus(models.TextChoices):
    KEPT = "kept", Label("เก็บรักษา", "kept")
    DESTROYED = "destroyed", Label("ทำลายแล้ว", "destroyed")


class Record(models.Model):
    """One letter sent or received, as a record: its case, retention and the year it is kept to.

    ``keep_until`` is the last พ.ศ. year it is kept (None: ห้ามทำลาย). An override of the file's
    retention carries its reason. ``stored_copy`` is the copy with the ตรากำหนดเก็บหนังสือ; the
    original file is never stamped.
    """

    organisation = models.ForeignKey("directory.Organisation", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=3, choices=RecordKind.choices)
    object_id = models.PositiveBigIntegerField()  # the Letter or IncomingLetter
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.PROTECT, related_name="records")
    retention_class = models.CharField(max_length=10, choices=RetentionClass.choices)
    retention_years = models.PositiveSmallIntegerField(null=True, blank=True)
    legal_basis = models.CharField(max_length=300, blank=True)
    override_reason = models.CharField(max_length=500, blank=True)  # set when not the file's retention
    document_year = models.PositiveSmallIntegerField()  # พ.ศ.
    keep_until = models.PositiveSmallIntegerField(null=True, blank=True)  # พ.ศ.; None: ห้ามทำลาย
    status = models.CharField(max_length=10, choices=RecordStatus.choices, default=RecordStatus.KEPT)
    stored_copy = models.ForeignKey("documents.StoredFile", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    filed_at = models.DateTimeField()
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")

    class Meta:
        verbose_name = "ทะเบียนเก็บหนังสือ / record"
        constraints = [models.UniqueConstraint(fields=["kind", "object_id"], name="records_one_per_letter")]
        indexes = [models.Index(fields=["organisation", "status", "keep_until"], name="records_due")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.object_id} until {self.keep_until or 'ห้ามทำลาย'}"


class HoldReason(models.TextChoices):
    COURT = "court", Label("คดีความในศาล", "court case")
    INVESTIGATION = "investigation", Label("การสอบสวน", "investigation")
    AUDIT = "audit", Label("การตรวจสอบ", "audit")
    OTHER = "other", Label("เหตุอื่น", "other")


class LegalHold(models.Model):
    """A hold on a record (ระงับการทำลาย): nothing held is destroyed until it is released."""

    record = models.ForeignKey(Record, on_delete=models.PROTECT, related_name="holds")
    reason = models.CharField(max_length=15, choices=HoldReason.choices)
    detail = models.CharField(max_length=500)  # the case number, the order, who asked
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    placed_at = models.DateTimeField()
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    released_at = models.DateTimeField(null=True, blank=True)
    release_note = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = "การระงับการทำลาย / legal hold"

    def __str__(self) -> str:
        return f"hold {self.reason} on {self.record_id}"


class DestructionStatus(models.TextChoices):
    """The steps of the annual destruction (ข้อ 66–69)."""

    DRAFTED = "drafted", Label("จัดทำบัญชีแล้ว", "list drawn up")
    COMMITTEE = "committee", Label("แต่งตั้งคณะกรรมการแล้ว", "committee appointed")
    REVIEWED = "reviewed", Label("คณะกรรมการพิจารณาแล้ว", "reviewed by the committee")
    APPROVED = "approved", Label("หัวหน้าส่วนราชการอนุมัติแล้ว", "approved by the head")
    SENT = "sent", Label("ส่งกรมศิลปากรแล้ว", "sent to the National Archives")
    OBJECTED = "objected", Label("กรมศิลปากรทักท้วง", "the National Archives objected")
    DESTROYING = "destroying", Label("กำลังทำลาย", "being destroyed")
    DESTROYED = "destroyed", Label("ทำลายแล้ว", "destroyed")


class DestructionList(models.Model):
    """บัญชีหนังสือขอทำลาย (แบบที่ 25) of one organisation for one year, and its path to destruction."""

    organisation = models.ForeignKey("directory.Organisation", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()  # พ.ศ.: what was due by the end of this year
    status = models.CharField(max_length=12, choices=DestructionStatus.choices, default=DestructionStatus.DRAFTED)
    drafted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    drafted_at = models.DateTimeField()
    committee_order = models.ForeignKey("correspondence.Letter", null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="+")  # คำสั่งแต่งตั้งคณะกรรมการ
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    approval_reference = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_by_channel = models.CharField(max_length=20, blank=True)  # exchange | email | paper
    archives_reference = models.CharField(max_length=300, blank=True)
    objection_until = models.DateField(null=True, blank=True)
    archives_note = models.CharField(max_length=500, blank=True)
    destroyed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "บัญชีหนังสือขอทำลาย / destruction list"
        constraints = [models.UniqueConstraint(fields=["organisation", "year"], name="records_one_list_a_year")]

    def __str__(self) -> str:
        return f"แบบ 25 {self.organisation_id} พ.ศ. {self.year} ({self.status})"


class CommitteeRole(models.TextChoices):
    CHAIR = "chair", Label("ประธานกรรมการ", "chair")
    MEMBER = "member", Label("กรรมการ", "member")


class CommitteeMember(models.Model):
    """One member of the destruction committee (a chair and at least two members)."""

    destruction = models.ForeignKey(DestructionList, on_delete=models.CASCADE, related_name="committee")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=10, choices=CommitteeRole.choices)
    position = models.CharField(max_length=255, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)  # signed the reviewed list

    class Meta:
        constraints = [models.UniqueConstraint(fields=["destruction", "person"], name="records_member_once")]

    def __str__(self) -> str:
        return f"{self.role} {self.person_id}"


class ItemDecision(models.TextChoices):
    DESTROY = "destroy", Label("ทำลาย", "destroy")
    KEEP = "keep", Label("ให้เก็บต่อ", "keep")


class DestructionItem(models.Model):
    """One record on the list: destroyed, or kept by the committee with a new retention."""

    destruction = models.ForeignKey(DestructionList, on_delete=models.CASCADE, related_name="items")
    record = models.ForeignKey(Record, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=10, choices=ItemDecision.choices, default=ItemDecision.DESTROY)
    keep_reason = models.CharField(max_length=500, blank=True)
    # A kept item's new retention, applied to its record when the last member signs the list.
    new_retention_class = models.CharField(max_length=10, choices=RetentionClass.choices, blank=True)
    new_retention_years = models.PositiveSmallIntegerField(null=True, blank=True)
    new_legal_basis = models.CharField(max_length=300, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    destroyed_at = models.DateTimeField(null=True, blank=True)
    skipped_reason = models.CharField(max_length=300, blank=True)  # not destroyed when its turn came: a hold

    class Meta:
        constraints = [models.UniqueConstraint(fields=["destruction", "record"], name="records_item_once")]

    def __str__(self) -> str:
        return f"{self.record_id} {self.decision}"


class PendingErasure(models.Model):
    """A file to delete from the blob store once the destruction that freed it has committed.

    Written in the same transaction as the record's destruction; removed when the bytes are gone. A
    crash between the two leaves the row, and the next run deletes the file (unless a kept record
    still carries it).
    """

    sha256 = models.CharField(max_length=64, primary_key=True)
    queued_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.sha256[:12]
