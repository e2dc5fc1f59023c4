"""``saraban search``: the search index.

- ``reindex [--extract]``: rebuild every entry from the letters, with a progress bar (the index is
  derived: it holds nothing the letters do not); ``--extract`` reads the files' text again too (what
  OCR read is kept) and queues OCR for scans never read;
- ``query TEXT [--user U]``: what a person (default: none, every organisation) would find, for support.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from saraban.core.errors import SarabanError
from saraban.directory.models import Person
from saraban.search.engine import matching_ids, search, variant_sets
from saraban.search.indexing import progress_bar, reindex
from saraban.search.models import ExtractedText, SearchEntry
from saraban.search.query import parse


class Command(BaseCommand):
    help = "The search index: reindex, or try a search."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        rebuild = sub.add_parser("reindex", help="rebuild the index from the letters")
        rebuild.add_argument("--extract", action="store_true",
                             help="read the files' text again (PDF, DOCX, XLSX; scans go to OCR)")
        query = sub.add_parser("query", help="show what a search finds")
        query.add_argument("text")
        query.add_argument("--user", help="as this person sees it (default: every entry)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "reindex":
                if options["extract"]:
                    ExtractedText.objects.exclude(method="ocr").delete()
                written = reindex(progress=progress_bar)
                self.stdout.write(f"จัดทำดัชนีแล้ว {written:,} ฉบับ / indexed {written:,} letters")
                return
            if options.get("user"):
                person = Person.objects.filter(username=options["user"]).first()
                if person is None:
                    raise CommandError(f"ไม่พบผู้ใช้ / no such user: {options['user']!r}", returncode=2)
                for hit in search(person, options["text"]).hits:
                    self.stdout.write(f"{hit.url}  {hit.entry.number}  {hit.entry.subject}")
                return
            ids = matching_ids(parse(options["text"], variant_sets=variant_sets()))
            for entry in SearchEntry.objects.filter(pk__in=ids[:50]).order_by("-pk"):
                self.stdout.write(f"{entry.kind}:{entry.object_id}  {entry.number}  {entry.subject}")
            self.stdout.write(f"{len(ids):,} รายการ / entries")
        except SarabanError as exc:
            raise CommandError(f"{exc.message_th} / {exc.message_en}", returncode=2) from None
