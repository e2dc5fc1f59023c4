"""Secrecy grants and the deployment policy."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SecrecyGrant(models.Model):
    """An explicit grant: ``person`` may see letters of ``organisation`` classified up to ``level``.

    ระเบียบว่าด้วยการรักษาความลับของทางราชการ: classified letters (ลับ and above) are seen only by
    those entitled; holding a role in the organisation is not enough.
    """

    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="secrecy_grants")
    organisation = models.ForeignKey("directory.Organisation", on_delete=models.PROTECT, related_name="+")
    level = models.CharField(max_length=20)  # Secrecy value: confidential, secret, top_secret
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    granted_at = models.DateTimeField(auto_now_add=True)
    valid_until = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "organisation"], name="one_grant_per_org")]

    def __str__(self) -> str:
        return f"{self.person} {self.level} @ {self.organisation_id}"


class DeploymentPolicy(models.Model):
    """Switches the system administrator sets for the whole deployment (one row)."""

    # ข้อ 29 (2021): ลับที่สุด material is not sent electronically unless allowed.
    allow_top_secret_electronic = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return "deployment policy"
