"""A signature on a letter: who signed, as what, when, how, and the digest of exactly what was signed."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SignatureMethod(models.TextChoices):
    TYPED_NAME = "typed_name", "ลงนามด้วยการพิมพ์ชื่อในระบบที่ยืนยันตัวตน / Typed name in a verified system"
    PADES = "pades", "ลายมือชื่อดิจิทัล (PAdES) / Digital signature (PAdES)"


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

    class Meta:
        ordering = ["signed_at"]

    def __str__(self) -> str:
        return f"{self.signer} {self.method} {self.signed_at:%Y-%m-%d %H:%M}"
