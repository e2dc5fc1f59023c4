"""The reading of one scan, kept by the scan's SHA-256: its progress, its searchable copy and its text."""

from __future__ import annotations

from django.db import models

from saraban.core.labels import Label


class ReadingStatus(models.TextChoices):
    QUEUED = "queued", Label("รอคิวอ่านข้อความ", "Queued")
    READING = "reading", Label("กำลังอ่านข้อความ", "Reading")
    DONE = "done", Label("อ่านข้อความแล้ว", "Read")
    FAILED = "failed", Label("อ่านข้อความไม่สำเร็จ", "Failed")


class ScanReading(models.Model):
    """OCR of one stored file (การอ่านข้อความจากภาพสแกน). The original file is never changed.

    One row per file, however many letters carry it. ``searchable`` is the PDF/A-2b with a text layer;
    ``text`` is what Tesseract read, for search. Progress (``pages_done`` of ``pages``) is written by
    the worker as it reads, for the letter's page to show.
    """

    source = models.OneToOneField("documents.StoredFile", on_delete=models.PROTECT, primary_key=True,
                                  related_name="+")
    status = models.CharField(max_length=10, choices=ReadingStatus.choices, default=ReadingStatus.QUEUED)
    languages = models.CharField(max_length=40)
    pages = models.PositiveIntegerField(default=0)
    pages_done = models.PositiveIntegerField(default=0)
    searchable = models.ForeignKey("documents.StoredFile", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    text = models.TextField(blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    error_th = models.CharField(max_length=500, blank=True)
    error_en = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    queued_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "การอ่านข้อความจากภาพสแกน / scan reading"
        indexes = [models.Index(fields=["status", "queued_at"], name="ocr_status_queued")]

    def __str__(self) -> str:
        return f"{self.source_id[:12]} {self.status} {self.pages_done}/{self.pages}"
