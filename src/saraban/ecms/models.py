"""The DGA e-CMS connector's records: our organisations' nodes, the e-CMS directory, what we post and poll.

e-CMS is store-and-forward: each agency talks only to its own node, posts letters and notifiers to
it (``EcmsOutbound``, an outbox written in the transaction of the change it reports) and polls it
for what others sent, deleting each item it has committed (``EcmsInbound``, one row per ProcessID).
"""

from __future__ import annotations

from django.db import models

from saraban.core.labels import Label


class EcmsConnection(models.Model):
    """An organisation hosted here and its account on its own e-CMS node (ECMS-URL, ministry and department ids)."""

    organisation = models.OneToOneField("directory.Organisation", on_delete=models.PROTECT, related_name="+")
    endpoint = models.CharField(max_length=500)  # its ECMS-URL, e.g. http://…/ecms-ws01/service2
    ministry_id = models.CharField(max_length=32)
    department_id = models.CharField(max_length=32, unique=True)
    is_active = models.BooleanField(default=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)  # in words, for the administrator's page
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.department_id} @ {self.endpoint}"


class EcmsOrganisation(models.Model):
    """An agency in the e-CMS directory (GetOrganizationList), matched to a directory organisation when known."""

    organization_id = models.CharField(max_length=32, unique=True)  # its e-CMS department id
    ministry_id = models.CharField(max_length=32, blank=True)
    ministry_name = models.CharField(max_length=500, blank=True)  # GetMinistryOrganizationList
    th_name = models.CharField(max_length=500)
    en_name = models.CharField(max_length=500, blank=True)
    ecms_url = models.CharField(max_length=500, blank=True)
    # The directory organisation letters to this agency are for (None: not matched yet).
    organisation = models.OneToOneField(
        "directory.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    seen_at = models.DateTimeField()  # when the node's list last named it

    class Meta:
        ordering = ["th_name"]

    def __str__(self) -> str:
        return f"{self.th_name} ({self.organization_id})"


class OutboundKind(models.TextChoices):
    LETTER = "letter", Label("หนังสือ", "Letter")
    NOTIFIER = "notifier", Label("หนังสือแจ้ง", "Notifier")


class OutboundStatus(models.TextChoices):
    PENDING = "pending", Label("รอส่ง", "Waiting")  # first attempt to come, or retrying
    POSTED = "posted", Label("ส่งเข้า e-CMS แล้ว", "Accepted by e-CMS")  # the node answered with a ProcessID
    FAILED = "failed", Label("e-CMS ไม่รับ", "Refused by e-CMS")  # a Client fault: our request was wrong
    GIVEN_UP = "given_up", Label("เลิกส่งแล้ว", "Given up")  # the retry window passed
    CANCELLED = "cancelled", Label("ยกเลิกแล้ว", "Cancelled")


class EcmsOutbound(models.Model):
    """One request for our node: a letter for one dispatch, or a notifier about a letter we received."""

    connection = models.ForeignKey(EcmsConnection, on_delete=models.PROTECT, related_name="outbound")
    kind = models.CharField(max_length=10, choices=OutboundKind.choices)
    notifier_kind = models.CharField(max_length=32, blank=True)  # AcceptLetterNotifier …
    dispatch = models.ForeignKey(
        "exchange.Dispatch", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    inbound = models.ForeignKey(  # a notifier: the letter it is about
        "EcmsInbound", null=True, blank=True, on_delete=models.PROTECT, related_name="notifiers"
    )
    # What notifiers name the letter by: its number and date, and the receiving department.
    letter_id = models.CharField(max_length=128)
    letter_date = models.CharField(max_length=10)  # yyyy-MM-dd, as sent
    receiver_department = models.CharField(max_length=32, blank=True)
    accept_id = models.CharField(max_length=64, blank=True)
    request = models.ForeignKey("documents.StoredFile", on_delete=models.PROTECT, related_name="+")
    # Resending after a reject: the letter is withdrawn from e-CMS (DeleteGovernmentDocument) first.
    withdraw_first = models.BooleanField(default=False)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=OutboundStatus.choices, default=OutboundStatus.PENDING)
    process_id = models.CharField(max_length=64, blank=True)  # the node's, once it has the request
    created_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    # The last attempt may have reached the node without our seeing its answer (a timeout): before
    # posting the letter again, ask the node (OutboundStatus) whether it has it.
    uncertain = models.BooleanField(default=False)
    last_error = models.TextField(blank=True)
    posted_at = models.DateTimeField(null=True, blank=True)
    give_up_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["connection", "kind", "letter_id", "letter_date"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.letter_id} → {self.receiver_department}: {self.status}"


class InboundOutcome(models.TextChoices):
    DELIVERED = "delivered", Label("เข้าหนังสือรับแล้ว", "In the inbox")
    DUPLICATE = "duplicate", Label("ซ้ำกับที่รับไว้แล้ว", "A copy of one already received")
    APPLIED = "applied", Label("บันทึกสถานะแล้ว", "Status recorded")
    UNMATCHED = "unmatched", Label("ไม่พบหนังสือที่อ้างถึง", "About no letter we sent")
    INVALID = "invalid", Label("หนังสือไม่สมบูรณ์ แจ้งกลับแล้ว", "Defective: the sender was told")
    NO_RECIPIENT = "no_recipient", Label("ไม่พบผู้รับ", "For no organisation here")


class EcmsInbound(models.Model):
    """One item polled from our node (a letter or a notifier), kept once per ProcessID, byte for byte."""

    connection = models.ForeignKey(EcmsConnection, on_delete=models.PROTECT, related_name="inbound")
    process_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=32)  # letter | ReceiveLetterNotifier | AcceptLetterNotifier …
    letter_id = models.CharField(max_length=128, blank=True)
    letter_date = models.CharField(max_length=10, blank=True)
    subject = models.CharField(max_length=2000, blank=True)
    sender_department = models.CharField(max_length=32, blank=True)
    accept_id = models.CharField(max_length=64, blank=True)
    main_sha256 = models.CharField(max_length=64, blank=True)  # a letter: its PDF, to tell a resent copy
    raw = models.ForeignKey("documents.StoredFile", on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(max_length=12, choices=InboundOutcome.choices)
    detail = models.TextField(blank=True)  # in words: what was wrong, or what it changed
    incoming_id = models.PositiveBigIntegerField(null=True, blank=True)  # the inbox entry it became
    received_at = models.DateTimeField()
    deleted_at = models.DateTimeField(null=True, blank=True)  # the node confirmed it left its queue

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "process_id"], name="ecms_inbound_once"),
        ]
        indexes = [models.Index(fields=["connection", "kind", "letter_id", "letter_date"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.letter_id} ({self.process_id})"
