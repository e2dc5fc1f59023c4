"""API tokens: a machine client authenticates as its owner with ``Authorization: Bearer <token>``.

The token is shown once, when it is created; only its SHA-256 is stored, so a copy of the database
does not hand out working tokens. A revoked token stays (for the record) but no longer authenticates.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A bearer token that acts as ``owner``."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)  # what the owner calls it, e.g. "ระบบงานคลัง"
    key_sha256 = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)  # the token's first characters, to recognise it in lists
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "โทเคน API / API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
