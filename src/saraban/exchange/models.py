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


class DeploymentIdentity(models.Model):
    """This deployment's identity on the exchange network: its id, key pair and self-signed certificate.

    One row, in the database rather than on an app server's disk, so that every app server of the
    deployment signs with the same key. The private key is PKCS#8 encrypted under the exchange
    passphrase (``exchange.identity``); it is never stored or logged in clear.
    """

    slot = models.PositiveSmallIntegerField(default=1)  # always 1: the unique constraint keeps one row
    deployment_id = models.CharField(max_length=64, unique=True)  # a UUID, stable for the deployment's life
    name = models.CharField(max_length=200)  # the certificate's CN
    certificate_der = models.BinaryField()
    fingerprint = models.CharField(max_length=64, unique=True)  # SHA-256 of the certificate, hex
    encrypted_key = models.BinaryField()  # PKCS#8 DER, encrypted (BestAvailableEncryption)
    key_protection = models.CharField(max_length=12)  # "passphrase" or "secret_key": what the key is under
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["slot"], name="one_deployment_identity")]

    def __str__(self) -> str:
        return f"{self.name} ({self.deployment_id})"
