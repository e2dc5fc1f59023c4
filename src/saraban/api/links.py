"""OpenAPI links (3.x ``links``): what a response's ids lead to, so a client (or Schemathesis's
stateful run) can follow them: create a letter, then act on it.

Each ``Source`` is an operation whose answer names an object (``pointer``, a JSON pointer into the
body); every operation whose path takes that object's ``parameter`` gets a link from it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

_METHODS = ("get", "put", "post", "patch", "delete")


@dataclass(frozen=True)
class Source:
    """An answer that names an object: ``method path`` answering ``status``, the id at ``pointer``."""

    method: str
    path: str
    status: str
    pointer: str
    parameter: str


SOURCES = (
    Source("post", "/api/letters", "201", "/id", "letter_id"),
    Source("post", "/api/letters/{letter_id}/correction", "201", "/id", "letter_id"),
    Source("get", "/api/letters", "200", "/items/0/id", "letter_id"),
    Source("post", "/api/inbox/paper", "201", "/id", "incoming_id"),
    Source("get", "/api/inbox", "200", "/items/0/id", "incoming_id"),
    Source("get", "/api/registers/entries", "200", "/items/0/id", "entry_id"),
    Source("get", "/api/directory/organisations", "200", "/items/0/id", "organisation_id"),
    Source("post", "/api/tokens", "201", "/id", "token_id"),
)


def _name(operation_id: str, method: str, path: str) -> str:
    """A link's name from its target: the method and the path's words after the parameter."""
    words = [w for w in re.split(r"[^A-Za-z0-9]+", path.split("}", 1)[-1]) if w]
    return "".join(part.capitalize() for part in [method, *words]) or operation_id


def _targets(paths: dict[str, Any], parameter: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    marker = "{" + parameter + "}"
    for path, item in paths.items():
        if marker in path:
            for method in _METHODS:
                if method in item:
                    yield path, method, item[method]


def add_links(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` (an OpenAPI document) with the links of ``SOURCES`` added to their responses."""
    paths = schema.get("paths", {})
    for source in SOURCES:
        responses = paths.get(source.path, {}).get(source.method, {}).get("responses", {})
        # ninja keys the statuses by int until the document is serialised as JSON
        response = responses.get(int(source.status), responses.get(source.status))
        if response is None:
            raise LookupError(f"no {source.method.upper()} {source.path} answering {source.status} to link from")
        links = response.setdefault("links", {})
        for path, method, operation in _targets(paths, source.parameter):
            links[_name(operation["operationId"], method, path)] = {
                "operationId": operation["operationId"],
                "parameters": {source.parameter: f"$response.body#{source.pointer}"},
            }
    return schema
