"""One letter sent to one recipient organisation, and what became of it there."""

from __future__ import annotations

from django.db import models

from saraban.core.labels import Label


class DispatchStatus(models.TextChoices):
    DELIVERED = "delivered", Label("ส่งถึงแล้ว", "Delivered")
    RECEIVED = "received", Label("ผู้รับเปิดแล้ว", "Received")
    REGISTERED = "registered", Label("ลงรับแล้ว", "Registered")
    RETURNED = "returned", Label("ส่งคืน", "Returned")


class Dispatch(models.Model):
    """A copy of an outgoing letter on its way to (or at) one recipient organisation."""

    letter = models.ForeignKey("correspondence.Letter", on_delete=models.PROTECT, related_name="dispatches")
    recipient = models.ForeignKey("directory.Organisation", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=2, default="to")  # to / cc
    transport = models.CharField(max_length=20, default="internal")  # internal; e-mail and e-CMS later
    status = models.CharField(max_length=12, choices=DispatchStatus.choices, default=DispatchStatus.DELIVERED)
    sent_at = models.DateTimeField()
    status_at = models.DateTimeField()
    receive_number = models.CharField(max_length=32, blank=True)  # the recipient's เลขรับ
    returned_reason = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["letter", "recipient"], name="one_dispatch_per_recipient")]
        indexes = [models.Index(fields=["recipient", "status"])]

    def __str__(self) -> str:
        return f"{self.letter_id} → {self.recipient_id}: {self.status}"

