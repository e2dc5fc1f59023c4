"""A signature on a letter: who signed, as what, when, how, and the digest of exactly what was signed."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from saraban.core.labels import Label


class SignatureMethod(models.TextChoices):
    TYPED_NAME = "typed_name", Label("ลงนามด้วยการพิมพ์ชื่อในระบบที่ยืนยันตัวตน", "Typed name in a verified system")
    PADES = "pades", Label("ลายมือชื่อดิจิทัล (PAdES)", "Digital signature (PAdES)")


class Signature(models.Model):
    """One signature on one letter."""

    letter = models.ForeignKey("correspondence.Letter", on_delete=models.PROTECT, related_name="signatures")
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=20)  # the directory role signed under, e.g. "signer"
    position_title = models.CharField(max_length=255)
    acting_line = models.CharField(max_length=255, blank=True)  # e.g. รักษาราชการแทนปลัดสำนักนายกรัฐมนตรี
    method = models.CharField(max_length=20, choices=SignatureMethod.choices)
    signed_at = models.DateTimeField()
    # SHA-256 of the exact PDF that was signed (the rendered letter with its signature block).
    pdf_sha256 = models.CharField(max_length=64)
    pdf = models.ForeignKey("documents.StoredFile", on_delete=models.PROTECT, related_name="+")
    # PAdES only: the registered certificate used and the level reached (B-B, B-T, B-LT, B-LTA).
    certificate = models.ForeignKey(
        "SigningCertificate", null=True, blank=True, on_delete=models.PROTECT, related_name="signatures"
    )
    level = models.CharField(max_length=10, blank=True)
    # SHA-256 of the letter as rendered before the PAdES signature was applied: the letter's QR code
    # carries it (the signed file's own digest cannot be known while drawing the stamp).
    rendered_sha256 = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        ordering = ["signed_at"]

    def __str__(self) -> str:
        return f"{self.signer} {self.method} {self.signed_at:%Y-%m-%d %H:%M}"


class KeyLocation(models.TextChoices):
    """Where the private key of a registered certificate is kept."""

    FILE = "file", Label("ไฟล์ PKCS#12", "PKCS#12 file")
    TOKEN = "token", Label("โทเคน", "Token or HSM")
    SEAL = "seal", Label("ตราประทับของหน่วยงาน", "Organisation seal")


class RevocationStatus(models.TextChoices):
    NOT_CHECKED = "not_checked", Label("ยังไม่ได้ตรวจ", "Not checked")
    GOOD = "good", Label("ใช้งานได้", "Good")
    REVOKED = "revoked", Label("ถูกเพิกถอน", "Revoked")
    UNKNOWN = "unknown", Label("ตรวจสอบไม่ได้", "Could not be checked")


class SigningCertificate(models.Model):
    """ใบรับรองอิเล็กทรอนิกส์ registered for signing: a person's (file or token) or the organisation's seal.

    The certificate's facts are copied into columns so that registry pages and expiry warnings need no
    parsing. A PKCS#12 file is kept as uploaded (it is encrypted with its password, which Saraban never
    stores); a token or seal is found by its PKCS#11 module, token label and key label.
    """

    organisation = models.ForeignKey("directory.Organisation", on_delete=models.PROTECT, related_name="+")
    holder = models.ForeignKey(  # None for the organisation's seal
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    key_location = models.CharField(max_length=10, choices=KeyLocation.choices)
    label = models.CharField(max_length=255, blank=True)
    certificate = models.BinaryField()  # DER
    fingerprint_sha256 = models.CharField(max_length=64)
    subject = models.CharField(max_length=1000)
    issuer = models.CharField(max_length=1000)
    serial = models.CharField(max_length=100)  # hexadecimal
    not_before = models.DateTimeField()
    not_after = models.DateTimeField()
    key_usage = models.CharField(max_length=255, blank=True)  # e.g. "digital_signature,non_repudiation"
    # The issuing CA certificates (PEM) sent along in each signature, so validators can build the path.
    chain_pem = models.TextField(blank=True)
    pkcs12 = models.ForeignKey(
        "documents.StoredFile", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    pkcs11_lib = models.CharField(max_length=500, blank=True)
    token_label = models.CharField(max_length=255, blank=True)
    key_label = models.CharField(max_length=255, blank=True)
    revocation_status = models.CharField(
        max_length=12, choices=RevocationStatus.choices, default=RevocationStatus.NOT_CHECKED
    )
    revocation_checked_at = models.DateTimeField(null=True, blank=True)
    revocation_source = models.CharField(max_length=20, blank=True)  # "ocsp", "crl", "none"
    active = models.BooleanField(default=True)  # False once withdrawn by the holder or an administrator
    registered_at = models.DateTimeField(auto_now_add=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["organisation_id", "not_after"]
        indexes = [
            models.Index(fields=["organisation", "active", "not_after"]),
            models.Index(fields=["holder", "active"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "holder", "fingerprint_sha256"], name="one_registration_per_certificate"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} ({self.get_key_location_display()})"


class ExpiryNotice(models.Model):
    """An in-app (and e-mailed) warning that a signing certificate expires within ``threshold_days``."""

    certificate = models.ForeignKey(SigningCertificate, on_delete=models.CASCADE, related_name="notices")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    threshold_days = models.PositiveSmallIntegerField()  # 90, 60, 30 or 7
    created_at = models.DateTimeField(auto_now_add=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["certificate", "recipient", "threshold_days"], name="one_notice_per_threshold"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.certificate_id} → {self.recipient_id}: {self.threshold_days} days"


class ValidationRecord(models.Model):
    """The validation report of a signed PDF as computed at ``validated_at`` (e.g. on receipt), kept as is.

    Validity at the time of receipt stays on record after the certificates expire or are revoked.
    """

    organisation = models.ForeignKey("directory.Organisation", on_delete=models.PROTECT, related_name="+")
    pdf = models.ForeignKey("documents.StoredFile", on_delete=models.PROTECT, related_name="+")
    indication = models.CharField(max_length=20)  # TOTAL_PASSED / INDETERMINATE / TOTAL_FAILED / NO_SIGNATURE
    sub_indication = models.CharField(max_length=60, blank=True)
    signature_count = models.PositiveSmallIntegerField(default=0)
    report = models.JSONField()
    validated_at = models.DateTimeField()

    class Meta:
        ordering = ["-validated_at"]
        indexes = [models.Index(fields=["organisation", "pdf"])]

    def __str__(self) -> str:
        return f"{self.indication} {self.validated_at:%Y-%m-%d %H:%M}"


class ArchivedPdf(models.Model):
    """A signed PDF kept for the long term (PAdES B-LTA), renewed with a new document timestamp in time.

    ``original`` is the PDF as signed; ``current`` the newest renewal (the same file until the first
    renewal). ``timestamp_expires_at`` is when the certificate of the newest document timestamp ends:
    the renewal job adds a new timestamp before then.
    """

    organisation = models.ForeignKey("directory.Organisation", on_delete=models.PROTECT, related_name="+")
    original = models.OneToOneField("documents.StoredFile", on_delete=models.PROTECT, related_name="+")
    current = models.ForeignKey("documents.StoredFile", on_delete=models.PROTECT, related_name="+")
    timestamp_expires_at = models.DateTimeField(null=True, blank=True)
    renewals = models.PositiveIntegerField(default=0)
    renewed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["timestamp_expires_at"])]

    def __str__(self) -> str:
        return f"archive {self.original_id} (renewed {self.renewals}×)"


class BatchStatus(models.TextChoices):
    RUNNING = "running", Label("กำลังลงนาม", "Signing")
    DONE = "done", Label("ลงนามครบแล้ว", "Done")
    INTERRUPTED = "interrupted", Label("หยุดกลางคัน", "Interrupted")


class ItemStatus(models.TextChoices):
    PENDING = "pending", Label("รอลงนาม", "Waiting")
    SIGNED = "signed", Label("ลงนามแล้ว", "Signed")
    FAILED = "failed", Label("ไม่สำเร็จ", "Failed")


class SigningBatch(models.Model):
    """ลงนามหลายฉบับ: letters a signer signs with one authorisation; resumable when interrupted."""

    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey("directory.Organisation", on_delete=models.PROTECT, related_name="+")
    method = models.CharField(max_length=20, choices=SignatureMethod.choices)
    certificate = models.ForeignKey(
        SigningCertificate, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=12, choices=BatchStatus.choices, default=BatchStatus.RUNNING)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The lease of the process signing it (any app server or worker): who holds the key in memory, and
    # until when, renewed as it signs. A running batch whose lease ran out is interrupted (its process ended).
    runner = models.CharField(max_length=120, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"batch {self.pk} of {self.signer_id} ({self.status})"


class SigningBatchItem(models.Model):
    """One letter of a batch."""

    batch = models.ForeignKey(SigningBatch, on_delete=models.CASCADE, related_name="items")
    letter = models.ForeignKey("correspondence.Letter", on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=ItemStatus.choices, default=ItemStatus.PENDING)
    error = models.CharField(max_length=1000, blank=True)  # "ไทย / English"
    signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["batch_id", "position"]
        constraints = [models.UniqueConstraint(fields=["batch", "letter"], name="letter_once_per_batch")]

    def __str__(self) -> str:
        return f"{self.batch_id}#{self.position} letter {self.letter_id} {self.status}"


class SigningPolicy(models.Model):
    """How an organisation signs its outgoing letters with PKI (its PAdES level)."""

    organisation = models.OneToOneField("directory.Organisation", on_delete=models.CASCADE, related_name="+")
    level = models.CharField(max_length=10)  # B-B, B-T, B-LT or B-LTA
    # Certify (DocMDP, form filling allowed) the letters as the issuing organisation signs them.
    certify = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.organisation_id}: {self.level}"
