"""The published OpenAPI document: one component per schema class, and real responses that conform to it.

Two classes with one name (a letter's ``SignatureOut`` and the verifier's) were merged silently by
ninja into one component, so ``LetterDetail.signatures`` pointed at the verifier's report and every
signed letter's response broke the published contract.
"""

from __future__ import annotations

import datetime as dt
import enum
import importlib
import inspect
import json
import pkgutil
import types
import typing
from collections import defaultdict
from typing import Any

import pytest
from django.test import Client
from pydantic import BaseModel

import saraban.api
from saraban.api.main import api
from saraban.correspondence.models import LetterStatus
from saraban.directory.models import Organisation, Person

from . import PASSWORD, Side, example, side_a

REF = "#/components/schemas/"


@pytest.fixture
def a(agency: Organisation, clerk: Person, signer: Person) -> Side:
    return side_a(agency, clerk, signer)


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    """The document as published at ``/api/openapi.json`` (public, as JSON: status keys are strings)."""
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    published: dict[str, Any] = json.loads(response.content)
    return published


# ---- (a) one component per class ---------------------------------------------------------------------


def _api_modules() -> list[types.ModuleType]:
    """Every module of ``saraban.api`` (routers included), imported."""
    names = [m.name for m in pkgutil.walk_packages(saraban.api.__path__, "saraban.api.")]
    return [importlib.import_module(n) for n in names if ".migrations" not in n and ".management" not in n]


def _is_component_class(obj: object) -> bool:
    return inspect.isclass(obj) and (issubclass(obj, BaseModel) or issubclass(obj, enum.Enum))


def test_schema_classes_of_the_api_have_distinct_names() -> None:
    """Each schema class defined anywhere in ``saraban.api`` has a name no other one has."""
    by_name: dict[str, set[str]] = defaultdict(set)
    for module in _api_modules():
        for name, obj in vars(module).items():
            if _is_component_class(obj) and obj.__module__ == module.__name__ and not name.startswith("_"):
                by_name[obj.__name__].add(f"{module.__name__}.{name}")
    assert "LetterDetail" in by_name and "ReportOut" in by_name  # schemas.py and the routers were seen
    shared = {name: sorted(where) for name, where in by_name.items() if len(where) > 1}
    assert not shared, f"schema classes sharing a name (ninja merges them into one component): {shared}"


def _models_in(annotation: Any, seen: set[type]) -> None:
    """Every model or enum class reachable from ``annotation``, into ``seen``."""
    if _is_component_class(annotation):
        if annotation in seen:
            return
        seen.add(annotation)
        if issubclass(annotation, BaseModel):
            for field in annotation.model_fields.values():
                _models_in(field.annotation, seen)
        return
    for arg in typing.get_args(annotation):
        _models_in(arg, seen)


def _reachable_models() -> set[type]:
    """The model and enum classes of every operation's parameters and responses (ours, not ninja's wrappers)."""
    seen: set[type] = set()
    for _prefix, router in api._routers:
        for view in router.path_operations.values():
            for operation in view.operations:
                for model in [*operation.models, *operation.response_models.values()]:
                    if inspect.isclass(model) and issubclass(model, BaseModel):
                        for field in model.model_fields.values():
                            _models_in(field.annotation, seen)
    return {cls for cls in seen if cls.__module__.startswith("saraban.")}


def test_every_schema_class_the_routes_use_has_its_own_component(doc: dict[str, Any]) -> None:
    components = doc["components"]["schemas"]
    models = _reachable_models()
    assert {"LetterDetail", "ReportOut", "LetterContent", "IncomingDetail"} <= {m.__name__ for m in models}
    by_name: dict[str, list[str]] = defaultdict(list)
    for cls in models:
        by_name[cls.__name__].append(f"{cls.__module__}.{cls.__qualname__}")
    shared = {name: sorted(where) for name, where in by_name.items() if len(where) > 1}
    assert not shared, f"classes merged into one component: {shared}"
    for cls in models:
        component = components.get(cls.__name__)
        assert component is not None, f"{cls.__name__} is not in the document"
        if issubclass(cls, enum.Enum):
            assert component["enum"] == [m.value for m in cls], cls
        else:
            assert issubclass(cls, BaseModel)
            own = cls.model_json_schema(by_alias=True, ref_template=REF + "{model}")
            assert set(component.get("properties", {})) == set(own.get("properties", {})), cls
            assert set(component.get("required", [])) == set(own.get("required", [])), cls


def test_a_letters_signatures_and_the_verifiers_are_two_components(doc: dict[str, Any]) -> None:
    components = doc["components"]["schemas"]
    letter_item = components["LetterDetail"]["properties"]["signatures"]["items"]["$ref"]
    report_item = components["ReportOut"]["properties"]["signatures"]["items"]["$ref"]
    assert letter_item != report_item
    assert {"signer_id", "method", "signed_at", "pdf_sha256"} <= set(components[letter_item.removeprefix(REF)][
        "properties"])
    assert {"field_name", "indication", "revocation_status"} <= set(components[report_item.removeprefix(REF)][
        "properties"])


# ---- (b) responses conform to the document ------------------------------------------------------------


def _resolve(schema: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].removeprefix(REF)]
    return schema


_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,), "array": (list,), "string": (str,), "integer": (int,), "number": (int, float),
    "boolean": (bool,), "null": (type(None),),
}


def violations(value: Any, schema: dict[str, Any], doc: dict[str, Any], at: str = "$") -> list[str]:
    """Where ``value`` breaks ``schema`` (the JSON Schema subset pydantic writes: $ref, anyOf/allOf/oneOf,
    type, properties, required, items, additionalProperties, enum, const, bounds, date formats)."""
    schema = _resolve(schema, doc)
    found: list[str] = []
    if "anyOf" in schema or "oneOf" in schema:
        options = schema.get("anyOf", schema.get("oneOf", []))
        if all(violations(value, option, doc, at) for option in options):
            found.append(f"{at}: matches none of {len(options)} alternatives")
    for part in schema.get("allOf", []):
        found += violations(value, part, doc, at)
    kind = schema.get("type")
    if kind is not None:
        kinds = kind if isinstance(kind, list) else [kind]
        if not any(isinstance(value, _TYPES[k]) and not (k in ("integer", "number") and isinstance(value, bool))
                   for k in kinds):
            return [*found, f"{at}: {type(value).__name__} is not {kind}"]
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{at}: {value!r} not in {schema['enum']}")
    if "const" in schema and value != schema["const"]:
        found.append(f"{at}: {value!r} is not {schema['const']!r}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            found.append(f"{at}: {value} < {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            found.append(f"{at}: {value} > {schema['maximum']}")
    if isinstance(value, str) and schema.get("format") in ("date", "date-time"):
        try:
            parse = dt.date.fromisoformat if schema["format"] == "date" else dt.datetime.fromisoformat
            parse(value)
        except ValueError:
            found.append(f"{at}: {value!r} is not a {schema['format']}")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                found.append(f"{at}: required “{name}” missing")
        extra = schema.get("additionalProperties", True)
        for name, item in value.items():
            if name in properties:
                found += violations(item, properties[name], doc, f"{at}.{name}")
            elif extra is False:
                found.append(f"{at}: “{name}” not allowed")
            elif isinstance(extra, dict):
                found += violations(item, extra, doc, f"{at}.{name}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            found += violations(item, schema["items"], doc, f"{at}[{i}]")
    return found


def response_schema(doc: dict[str, Any], method: str, path: str, status: int) -> dict[str, Any]:
    """The published JSON schema of one operation's response."""
    response = doc["paths"][path][method]["responses"][str(status)]
    schema: dict[str, Any] = response["content"]["application/json"]["schema"]
    return schema


def conforms(response: Any, doc: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    """The body of ``response``, after checking it against the document's schema for its status."""
    body: dict[str, Any] = response.json()
    problems = violations(body, response_schema(doc, method, path, response.status_code), doc)
    assert not problems, f"{method.upper()} {path} {response.status_code} breaks the published schema: {problems}"
    return body


def test_the_validator_catches_what_it_should(doc: dict[str, Any]) -> None:
    schema = {"$ref": REF + "LetterSummary"}
    assert violations({}, schema, doc)  # required fields
    assert any("subject" in v for v in violations({"subject": 3}, schema, doc))
    assert violations({"items": [{"x": 1}]}, {"$ref": REF + "LetterPage"}, doc)


def test_a_signed_letters_response_conforms_to_the_published_schema(a: Side, doc: dict[str, Any]) -> None:
    clerk, signer = a.apis["clerk"], a.apis["signer"]
    created = conforms(clerk.post("/letters", {"organisation_id": a.org.pk, "content": example()}), doc,
                       "post", "/api/letters")
    letter_id = created["id"]
    path = "/api/letters/{letter_id}"
    conforms(clerk.put(f"/letters/{letter_id}/recipients", {"to": [a.org.pk]}), doc, "put", path + "/recipients")
    submitted = clerk.post(f"/letters/{letter_id}/submit", {"reviewer_ids": [], "signer_id": a.people["signer"].pk})
    conforms(submitted, doc, "post", path + "/submit")
    signed = signer.post(f"/letters/{letter_id}/sign", {"password": PASSWORD})
    assert signed.status_code == 200, signed.content
    conforms(signed, doc, "post", path + "/sign")

    response = clerk.get(f"/letters/{letter_id}")
    assert response.status_code == 200
    body = conforms(response, doc, "get", path)
    assert body["status"] == LetterStatus.SIGNED and len(body["signatures"]) == 1

    # And by hand: each signature item has exactly the published component's fields, the required ones set.
    item_schema = _resolve(
        _resolve(response_schema(doc, "get", path, 200), doc)["properties"]["signatures"]["items"], doc
    )
    for signature in body["signatures"]:
        assert set(item_schema["required"]) <= set(signature)
        assert set(signature) == set(item_schema["properties"])
        assert signature["signer_id"] == a.people["signer"].pk and signature["method"] == "typed_name"

    listed = conforms(clerk.get("/letters"), doc, "get", "/api/letters")
    assert [x["id"] for x in listed["items"]] == [letter_id]
