"""What ninja's generated OpenAPI document cannot say by itself, added once it is generated.

- the links from answers to the operations on the objects they name (``links.py``);
- that a form field is never null (ninja publishes an optional one as "or null", which a form
  cannot send: it would arrive as the text "null");
- the media types each file part of a multipart body may have (``encoding``), which the routes
  check (a scan is a PDF or a PNG/JPEG image), and that a required list of files is not empty.
"""

from __future__ import annotations

from typing import Any

from .links import add_links

#: (path, method, field) → the media types its file parts may have.
PART_TYPES: dict[tuple[str, str, str], tuple[str, ...]] = {
    ("/api/inbox/paper", "post", "scans"): ("application/pdf", "image/png", "image/jpeg"),
}


def _without_null(prop: dict[str, Any]) -> None:
    """A form field's schema without its ``null`` alternative: a form has no null (an absent field is)."""
    options = prop.get("anyOf")
    if isinstance(options, list) and {"type": "null"} in options:
        kept = [o for o in options if o != {"type": "null"}]
        del prop["anyOf"]
        if len(kept) == 1:
            prop.update(kept[0])
        else:
            prop["anyOf"] = kept


def complete_document(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with its links, its multipart encodings, and form fields that cannot be null."""
    add_links(schema)
    paths = schema.get("paths", {})
    for item in paths.values():
        for operation in item.values():
            form = ((operation.get("requestBody") or {}).get("content") or {}).get("multipart/form-data")
            for prop in (form or {}).get("schema", {}).get("properties", {}).values():
                _without_null(prop)
    for (path, method, field), types in PART_TYPES.items():
        body = paths[path][method]["requestBody"]["content"]["multipart/form-data"]
        body.setdefault("encoding", {})[field] = {"contentType": ", ".join(types)}
        files = body["schema"]["properties"][field]
        if files.get("type") == "array":  # a required list of files holds one at least
            files.setdefault("minItems", 1)
    return schema
