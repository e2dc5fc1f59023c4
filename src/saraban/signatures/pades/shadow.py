"""The "replace" shadow attack (Mainka, Mladenov, Rohlmann, 2020): a form field's look swapped after signing.

The attacker signs a document whose text field holds one value but shows another, then, after the
signature, regenerates only the field's appearance so that it shows the hidden value. Filling in a
form after an approval signature is allowed, so pyHanko's difference analysis calls this
"form filling". The tell is that nothing was filled in: the field's value is the same in the signed
revision and in the file, yet what it shows is not. EU DSS finds the same files by comparing rendered
pages; comparing the fields themselves needs no renderer and names the field.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader

_MAX_FIELDS = 5_000  # a bound on the walk of a hostile field tree
# the strings a content stream shows: literal (...) and hex <...> operands, as written
_SHOWN = re.compile(rb"\((?:\\.|[^\\)])*\)|<[0-9A-Fa-f\s]*>")


class FieldLooks:
    """The form fields of one file, read once per revision (a file of 25 signatures asks 25 times)."""

    def __init__(self, reader: PdfFileReader) -> None:
        self.reader = reader
        self._by_revision: dict[int, dict[str, tuple[str, str]]] = {}

    def _at(self, revision: int) -> dict[str, tuple[str, str]]:
        if revision not in self._by_revision:
            self._by_revision[revision] = dict(_fields(self.reader.get_historical_resolver(revision)))
        return self._by_revision[revision]

    def replaced_since(self, signed_revision: int) -> list[str]:
        """Names of fields whose appearance differs from the signed revision's while their value does not."""
        last = self.reader.xrefs.total_revisions - 1
        if signed_revision >= last:
            return []
        try:
            signed, current = self._at(signed_revision), self._at(last)
        except Exception:  # a damaged field tree: the difference analysis has its own say on it
            return []
        return [name for name, (value, look) in current.items()
                if (before := signed.get(name)) is not None and before[0] == value and before[1] != look]


def _fields(resolver: Any) -> Iterator[tuple[str, tuple[str, str]]]:
    """(full name, (value, appearance digest)) of each terminal non-signature field of a revision."""
    root = _get(resolver, resolver.trailer_view.raw_get("/Root"))
    form = _get(resolver, root.raw_get("/AcroForm")) if "/AcroForm" in root else None
    if not isinstance(form, generic.DictionaryObject) or "/Fields" not in form:
        return
    pending: list[tuple[Any, str, Any]] = [(item, "", None) for item in _array(resolver, form.raw_get("/Fields"))]
    seen = 0
    while pending and seen < _MAX_FIELDS:
        raw, prefix, inherited_type = pending.pop()
        seen += 1
        node = _get(resolver, raw)
        if not isinstance(node, generic.DictionaryObject):
            continue
        partial = str(node.get("/T", "")) if "/T" in node else ""
        name = f"{prefix}.{partial}" if prefix and partial else (partial or prefix)
        field_type = node.get("/FT", inherited_type)
        kids = _array(resolver, node.raw_get("/Kids")) if "/Kids" in node else []
        named_kids = [k for k in kids if isinstance(_get(resolver, k), generic.DictionaryObject)
                      and "/T" in _get(resolver, k)]
        if named_kids:
            pending.extend((kid, name, field_type) for kid in named_kids)
            continue
        if field_type == "/Sig":  # a signature field shows its signature: its value changes when signed
            continue
        widgets = kids or [raw]
        value = _digest(resolver, node.raw_get("/V")) if "/V" in node else ""
        look = "|".join(_appearance(resolver, _get(resolver, widget)) for widget in widgets)
        yield name, (value, look)


def _appearance(resolver: Any, widget: Any) -> str:
    if not isinstance(widget, generic.DictionaryObject) or "/AP" not in widget:
        return ""
    ap = _get(resolver, widget.raw_get("/AP"))
    normal = _get(resolver, ap.raw_get("/N")) if isinstance(ap, generic.DictionaryObject) and "/N" in ap else None
    state = str(widget.get("/AS", ""))
    if isinstance(normal, generic.DictionaryObject) and not isinstance(normal, generic.StreamObject):
        # a check box or radio button: one appearance per state, and /AS chooses
        chosen = normal.raw_get(state) if state in normal else None
        return f"{state}:{_digest(resolver, chosen)}"
    return _shown_text(normal)


def _shown_text(stream: Any) -> str:
    """What an appearance stream writes, not how: a viewer regenerating a field's look with the same
    text (Acrobat does when it signs a form with /NeedAppearances) is no attack."""
    if not isinstance(stream, generic.StreamObject):
        return ""
    return hashlib.sha256(b"".join(_SHOWN.findall(stream.data))).hexdigest()


def _digest(resolver: Any, raw: Any) -> str:
    obj = _get(resolver, raw)
    if isinstance(obj, generic.StreamObject):
        return hashlib.sha256(obj.data).hexdigest()
    return hashlib.sha256(repr(obj).encode("utf-8", "replace")).hexdigest()


def _get(resolver: Any, raw: Any) -> Any:
    if isinstance(raw, generic.IndirectObject):
        return resolver.get_object(raw.reference)
    return raw


def _array(resolver: Any, raw: Any) -> list[Any]:
    obj = _get(resolver, raw)
    return list(obj.iterate()) if isinstance(obj, generic.ArrayObject) else []
