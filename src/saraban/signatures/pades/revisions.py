"""What a signature does not cover: the file's later revisions, said for what they are, and stray bytes.

A signature covers its own revision. Everything after it is either an incremental update (a later
signature or document timestamp, validation data for the long term, new metadata, other changes) or
bytes that belong to no revision at all: data appended after the last ``%%EOF``, which PDF readers
may show or hide as they please and which no signature vouches for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader

_EOF = b"%%EOF"
_PADDING = b" \t\r\n\f\x00"  # what tools leave after %%EOF without meaning anything by it
_DSS_KEYS = {"/Certs", "/OCSPs", "/CRLs", "/VRI", "/Type", "/TU", "/TS"}


@dataclass
class Uncovered:
    """One stretch of the file after a signature's signed bytes."""

    start: int
    end: int
    what: str  # "revision" | "trailing_data"
    revision: int | None = None  # 1-based, for a revision
    # what the revision is for: signature | document_timestamp | validation_data, metadata, other_changes
    changes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {"start": self.start, "end": self.end, "bytes": self.end - self.start, "what": self.what,
                "revision": self.revision, "changes": self.changes}


@dataclass
class FileLayout:
    """Where each revision of a PDF ends, and what each one after the first changes."""

    revision_ends: list[int]
    changes: _Changes  # per revision (0-based), read when asked; the first is the original document
    size: int

    @property
    def trailing(self) -> tuple[int, int] | None:
        """``(start, end)`` of bytes after the last revision that are more than padding, else ``None``."""
        end = self.revision_ends[-1] if self.revision_ends else self.size
        return (end, self.size) if end < self.size else None

    def after(self, signed_end: int, signed_revision: int) -> list[Uncovered]:
        """The stretches after a signature's signed bytes (which end at ``signed_end``, in the 0-based
        ``signed_revision``): each later revision, then any trailing data."""
        stretches = []
        start = max(signed_end, self.revision_ends[signed_revision] if signed_revision < len(self.revision_ends)
                    else signed_end)
        for index in range(signed_revision + 1, len(self.revision_ends)):
            end = self.revision_ends[index]
            stretches.append(Uncovered(start=start, end=end, what="revision", revision=index + 1,
                                       changes=self.changes[index]))
            start = end
        if (trailing := self.trailing) is not None:
            stretches.append(Uncovered(start=max(trailing[0], signed_end), end=trailing[1], what="trailing_data"))
        return stretches


def file_layout(reader: PdfFileReader, pdf: bytes) -> FileLayout:
    """Read where each revision ends (after its ``%%EOF``) and what the later ones change."""
    xrefs = reader.xrefs
    ends: list[int] = []
    for revision in range(xrefs.total_revisions):
        info = xrefs.get_xref_container_info(revision)
        ends.append(_end_after_eof(pdf, max(info.end_location, ends[-1] if ends else 0)))
    return FileLayout(revision_ends=ends, changes=_Changes(reader), size=len(pdf))


class _Changes:
    """What each revision changes, read when first asked: only the revisions after a signature are, and
    reading every object of a rewritten revision (thousands, in object streams) takes seconds."""

    def __init__(self, reader: PdfFileReader) -> None:
        self.reader = reader
        self.known: dict[int, list[str]] = {0: []}

    def __getitem__(self, index: int) -> list[str]:
        if index not in self.known:
            self.known[index] = _changes_in(self.reader, index)
        return self.known[index]


def _end_after_eof(pdf: bytes, position: int) -> int:
    found = pdf.find(_EOF, position)
    if found < 0:
        return len(pdf)
    end = found + len(_EOF)
    # the end-of-line after %%EOF, and any padding up to the next revision or the end of the file
    while end < len(pdf) and pdf[end] in _PADDING:
        end += 1
    return end


def _changes_in(reader: PdfFileReader, revision: int) -> list[str]:
    """What one incremental update changes, in a few words a report can carry."""
    try:
        now = reader.get_historical_resolver(revision)
        before = reader.get_historical_resolver(revision - 1)
        trailer = now.trailer_view
        root_ref = trailer.raw_get("/Root")
        info_ref = trailer.raw_get("/Info") if "/Info" in trailer else None
        dss_refs = _dss_refs(now)
        kinds: set[str] = set()
        for ref in reader.xrefs.explicit_refs_in_revision(revision):
            if isinstance(info_ref, generic.IndirectObject) and ref.idnum == info_ref.idnum:
                kinds.add("metadata")
            elif isinstance(root_ref, generic.IndirectObject) and ref.idnum == root_ref.idnum:
                kinds |= _catalog_changes(now.get_object(ref), before.get_object(ref))
            elif (ref.idnum, ref.generation) in dss_refs:
                kinds.add("validation_data")
            else:
                kinds.add(_kind_of(now.get_object(ref)))
        if _info_dict_changed(trailer, before.trailer_view):
            kinds.add("metadata")
    except Exception:  # a damaged revision: say so instead of guessing
        return ["unreadable"]
    return _purpose(kinds - {"container"})


def _purpose(kinds: set[str]) -> list[str]:
    """What a revision is for. A signature's revision also adds its field, widget and appearance, and
    may touch the metadata: it is "signature" (pyHanko's difference analysis judges the rest)."""
    for single in ("document_timestamp", "signature"):
        if single in kinds:
            return [single]
    known = sorted(kinds & {"validation_data", "metadata"})
    return known + (["other_changes"] if kinds - {"validation_data", "metadata"} else []) or ["none"]


def _dss_refs(resolver: Any) -> set[tuple[int, int]]:
    """The objects the revision's /DSS dictionary refers to (certificates, OCSP responses, CRLs, VRI)."""
    refs: set[tuple[int, int]] = set()
    try:
        root = _resolve(resolver, resolver.trailer_view.raw_get("/Root"))
        pending: list[Any] = [root.raw_get("/DSS")]
    except Exception:
        return refs
    while pending:
        item = pending.pop()
        if isinstance(item, generic.IndirectObject):
            key = (item.idnum, item.generation)
            if key not in refs and len(refs) < 100_000:
                refs.add(key)
                target = _resolve(resolver, item)
                if not isinstance(target, generic.StreamObject):
                    pending.append(target)
        elif isinstance(item, generic.DictionaryObject):
            pending.extend(item.raw_get(key) for key in item)
        elif isinstance(item, generic.ArrayObject):
            pending.extend(item.iterate())
    return refs


def _resolve(resolver: Any, item: Any) -> Any:
    """``item`` as it was in the resolver's revision (an indirect object's own ``get_object`` reads the
    newest revision)."""
    return resolver.get_object(item.reference) if isinstance(item, generic.IndirectObject) else item


def _catalog_changes(now: Any, before: Any) -> set[str]:
    kinds: set[str] = set()
    keys = set(now.keys()) | set(before.keys())
    for key in keys:
        if key in now and key in before and now.raw_get(key) == before.raw_get(key):
            continue
        kinds.add({"/DSS": "validation_data", "/Metadata": "metadata", "/AcroForm": "form_fields"}.get(key, "other"))
    return kinds


def _kind_of(obj: Any) -> str:
    if isinstance(obj, generic.DictionaryObject):
        kind = obj.get("/Type")
        if kind in ("/XRef", "/ObjStm"):  # the revision's own cross-reference or object-stream container
            return "container"
        if kind == "/DocTimeStamp" or obj.get("/SubFilter") == "/ETSI.RFC3161":
            return "document_timestamp"
        if kind == "/Sig" or (obj.get("/ByteRange") is not None and obj.get("/Contents") is not None):
            return "signature"
        if kind == "/Metadata":
            return "metadata"
        if kind == "/DSS" or (obj.keys() and set(obj.keys()) <= _DSS_KEYS):
            return "validation_data"
        if kind == "/Annot" or obj.get("/FT") is not None:
            return "form_fields"
    return "other"


def _info_dict_changed(now: Any, before: Any) -> bool:
    try:
        return bool(now.raw_get("/Info") != before.raw_get("/Info"))
    except Exception:
        return False
