"""A stored file: its digest, size and type. The bytes live in the blob store."""

from __future__ import annotations

from django.db import models


class StoredFile(models.Model):
    """One file content in the blob store, known by its SHA-256."""

    sha256 = models.CharField(primary_key=True, max_length=64)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "ไฟล์ / stored file"

    def __str__(self) -> str:
        return f"{self.sha256[:12]} ({self.content_type}, {self.size} B)"
