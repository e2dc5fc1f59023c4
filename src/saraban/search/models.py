"""The search index: one entry per letter (outgoing or incoming), derived, never the only copy of anything.

``SearchEntry.text`` is everything searchable about the letter, folded (``normalize.fold``); the
database indexes it by trigrams: SQLite's FTS5 ``trigram`` tokenizer (an external-content table kept
in step by triggers) on the embedded default, PostgreSQL's ``pg_trgm`` GIN index on a server, shared
by every app server. ``saraban search reindex`` rebuilds it from the letters.
"""

from __future__ import annotations

from django.db import models


class SearchEntry(models.Model):
    """What search knows of one letter: its fields for filters and display, and its folded text."""

    kind = models.CharField(max_length=3)  # out (หนังสือออก/ร่าง) | in (หนังสือเข้า)
    object_id = models.PositiveBigIntegerField()
    organisation = models.ForeignKey("directory.Organisation", on_delete=models.CASCADE, related_name="+")
    number = models.CharField(max_length=64, blank=True)
    subject = models.CharField(max_length=2000, blank=True)
    parties = models.CharField(max_length=1000, blank=True)  # from / to, as shown
    date = models.DateField(null=True, blank=True)  # the letter's date (or when it arrived)
    letter_type = models.CharField(max_length=20, blank=True)  # external, internal … (incoming: its source)
    status = models.CharField(max_length=20, blank=True)
    urgency = models.CharField(max_length=20, blank=True)
    secrecy = models.CharField(max_length=20, blank=True)
    unit = models.CharField(max_length=255, blank=True)  # ส่วนราชการเจ้าของเรื่อง, or the units assigned
    book = models.PositiveBigIntegerField(null=True, blank=True)  # the register book of its number
    has_attachment = models.BooleanField(default=False)
    title = models.TextField(blank=True)  # folded number, subject and parties: hits there rank first
    text = models.TextField()  # folded: what terms are matched in
    display = models.TextField()  # the same text as written, for the passage shown
    indexed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "object_id"], name="one_search_entry")]
        indexes = [models.Index(fields=["organisation", "-id"]), models.Index(fields=["date"])]

    def __str__(self) -> str:
        return f"{self.kind}:{self.object_id} {self.number} {self.subject[:40]}"


class SpellingVariant(models.Model):
    """A spelling that search treats as any other of its group (อิเลคทรอนิกส์ = อิเล็กทรอนิกส์): editable."""

    spelling = models.CharField(max_length=100, unique=True)
    group = models.CharField(max_length=100, db_index=True)  # the spelling the group is known by

    class Meta:
        ordering = ["group", "spelling"]

    def __str__(self) -> str:
        return f"{self.spelling} ~ {self.group}"


class ExtractedText(models.Model):
    """The text read out of one stored file (a PDF's text layer, a DOCX, an XLSX), kept by its SHA-256.

    Read once per file, however many letters carry it; derived like the index (``search reindex``
    reads it again with ``--extract``).
    """

    sha256 = models.CharField(max_length=64, primary_key=True)
    text = models.TextField(blank=True)
    method = models.CharField(max_length=20)  # pdf | docx | xlsx | text | scan (waiting for OCR) | ocr | none
    extracted_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.sha256[:12]} ({self.method})"
