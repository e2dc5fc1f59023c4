"""One letter sent to one recipient organisation, and what became of it there."""

from __future__ import annotations

from django.db import models

from saraban.core.labels import Label


class DispatchStatus(models.TextChoices):
    SENDING = "sending", Label("กำลังส่ง", "Sending")  # in the outbox for another deployment
    FAILED = "failed", Label("ส่งไม่สำเร็จ", "Not delivered")  # refused by the receiver, or given up
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
    # The id of the exchange message that carries it to another deployment (None: delivered here).
    message_id = models.UUIDField(null=True, blank=True, unique=True)

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


class Peer(models.Model):
    """Another Saraban deployment this one exchanges letters with, its certificate pinned on first use."""

    deployment_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    endpoint = models.CharField(max_length=500)  # base URL: messages go to {endpoint}/exchange/messages
    fingerprint = models.CharField(max_length=64, unique=True)  # SHA-256 of certificate_der, hex: pinned
    certificate_der = models.BinaryField()
    accepts_top_secret = models.BooleanField(default=False)  # as its directory document says
    max_message_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    # How many messages it takes in one POST to /exchange/batches, as its directory says (1: none).
    max_batch_messages = models.PositiveSmallIntegerField(default=1)
    is_active = models.BooleanField(default=True)
    added_at = models.DateTimeField()
    refreshed_at = models.DateTimeField()  # when its directory was last read

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.endpoint})"


class RemoteOrganisation(models.Model):
    """A directory organisation hosted by a peer: where letters to it go, and its address there."""

    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="organisations")
    organisation = models.OneToOneField("directory.Organisation", on_delete=models.PROTECT, related_name="+")
    remote_identifier = models.CharField(max_length=200)  # Address.organisation at the peer

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["peer", "remote_identifier"], name="one_remote_organisation"),
        ]

    def __str__(self) -> str:
        return f"{self.remote_identifier}@{self.peer_id}"


class MessageStatus(models.TextChoices):
    PENDING = "pending", Label("รอส่ง", "Waiting")  # first attempt to come, or retrying
    DELIVERED = "delivered", Label("ส่งถึงแล้ว", "Delivered")  # the peer answered with a signed receipt
    REFUSED = "refused", Label("ปลายทางปฏิเสธ", "Refused")  # the peer answered with a signed rejection
    GIVEN_UP = "given_up", Label("เลิกส่งแล้ว", "Given up")  # the retry window passed
    CANCELLED = "cancelled", Label("ยกเลิกแล้ว", "Cancelled")  # by the registry


class OutgoingMessage(models.Model):
    """One signed message in the outbox (a letter for one recipient, or a receipt), until the peer has it.

    Written in the same transaction as what it carries (the dispatch, the registration), so a crash
    either keeps both or neither; ``exchange.outbox`` delivers it with retries.
    """

    message_id = models.UUIDField(unique=True)
    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12)  # letter | receipt
    organisation = models.ForeignKey("directory.Organisation", on_delete=models.PROTECT, related_name="+")
    dispatch = models.ForeignKey(Dispatch, null=True, blank=True, on_delete=models.PROTECT, related_name="messages")
    in_reply_to = models.UUIDField(null=True, blank=True)  # a receipt: the letter it answers
    receipt_status = models.CharField(max_length=12, blank=True)  # a receipt: delivered|received|...
    container = models.ForeignKey("documents.StoredFile", on_delete=models.PROTECT, related_name="+")
    size = models.PositiveBigIntegerField()
    status = models.CharField(max_length=12, choices=MessageStatus.choices, default=MessageStatus.PENDING)
    created_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)  # a pump is delivering it until then
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)  # in words, for the queue page
    refusal_code = models.CharField(max_length=64, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    give_up_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["organisation", "status", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.message_id} → {self.peer_id}: {self.status}"


class ReceivedMessage(models.Model):
    """A message a peer delivered here, stored once: a duplicate gets ``answer`` again, nothing more."""

    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="+")
    sender_deployment = models.CharField(max_length=64)
    sender_organisation = models.CharField(max_length=200)  # its identifier at the peer
    message_id = models.UUIDField()
    kind = models.CharField(max_length=12)
    recipient = models.ForeignKey(
        "directory.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    in_reply_to = models.UUIDField(null=True, blank=True)
    container = models.ForeignKey("documents.StoredFile", on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField()
    answer = models.BinaryField()  # the signed receipt this deployment answered with
    answer_status = models.PositiveSmallIntegerField(default=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sender_deployment", "message_id"], name="received_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.message_id} from {self.sender_deployment}"
