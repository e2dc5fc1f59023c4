"""Inputs at and beyond the limits answer 400 or 413 with the one error shape, never a 500.

Found by a fuzzer: a body over Django's 2.5 MB, an offset or an id beyond 64 bits, more query keys
than Django parses. SQLite's INTEGER and PostgreSQL's bigint are both 64-bit signed: 2^63 − 1 is the
largest id or offset accepted, 2^63 the first refused.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DataError, connection, transaction
from django.test import Client

from saraban.api.main import api
from saraban.api.schemas import DB_INT_MAX
from saraban.correspondence.models import Letter
from saraban.correspondence.services import create_letter
from saraban.directory.models import Organisation, Person

from . import PASSWORD, Side, example, side_a
from .test_api_errors import counts, error

pytestmark = pytest.mark.django_db

TOO_BIG = [2**63, 2**64, 10**30]  # 2^63: one past SQLite's (and PostgreSQL's bigint) largest integer
LIST_ROUTES = ["/letters", "/inbox", "/registers/entries", "/directory/organisations", "/directory/people"]


@pytest.fixture
def a(agency: Organisation, clerk: Person, signer: Person) -> Side:
    side = side_a(agency, clerk, signer)
    for each in side.apis.values():
        each.client.raise_request_exception = False  # a 500 is a response to look at, not a test crash
    return side


def problems_of(response: Any, status: int = 400) -> dict[str, str]:
    """The field → code map of a validation error response."""
    return {p["field"]: p["code"] for p in error(response, status)["problems"]}


def big_json(size: int = 2_700_000) -> str:
    """A letter's JSON larger than Django's default ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (2.5 MB)."""
    return json.dumps({"content": example(subject="ก" * (size // 3))})


# ---- a body over DATA_UPLOAD_MAX_MEMORY_SIZE --------------------------------------------------------


def test_a_json_body_over_2_5_mb_is_413_with_the_error_shape(a: Side) -> None:
    before = counts()
    body = error(a.apis["clerk"].call("post", "/letters", big_json(), content_type="application/json"), 413)
    assert body["code"] == "request.too_large"
    assert "2.5 MB" in body["message_th"] and "2.5 MB" in body["message_en"]
    assert counts() == before


def test_every_api_route_answers_413_to_a_body_over_the_limit(a: Side) -> None:
    letter = create_letter(a.org, example(), author=a.people["clerk"])
    clerk = a.apis["clerk"]
    for method, path in [
        ("patch", f"/letters/{letter.pk}"), ("put", f"/letters/{letter.pk}/recipients"),
        ("post", f"/letters/{letter.pk}/submit"), ("post", "/tokens"),
    ]:
        response = clerk.call(method, path, big_json(), content_type="application/json")
        assert error(response, 413)["code"] == "request.too_large", (method, path)
    # A form body is refused the same way (Django reads it to parse the fields).
    form = "name=" + "x" * 2_700_000
    response = clerk.call("post", "/tokens", form, content_type="application/x-www-form-urlencoded")
    assert error(response, 413)["code"] == "request.too_large"
    # Before authentication too: a public route, and an unknown token.
    anonymous = Client(raise_request_exception=False)
    response = anonymous.post("/api/verify", data=form, content_type="application/x-www-form-urlencoded")
    assert error(response, 413)["code"] == "request.too_large"
    assert Letter.objects.get(pk=letter.pk).subject == letter.subject
    # The document says so: every operation may answer 413 with the error shape.
    doc = api.get_openapi_schema()
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            assert 413 in operation["responses"], (method, path)


def test_a_session_write_over_the_limit_is_413_even_while_checking_csrf(a: Side, clerk: Person) -> None:
    browser = Client(enforce_csrf_checks=True, raise_request_exception=False)
    browser.force_login(clerk)
    token = "A" * 32
    browser.cookies["csrftoken"] = token
    # The CSRF check reads the form body: the refusal comes from there, inside authentication.
    response = browser.post("/api/tokens", data="name=" + "x" * 2_700_000,
                            content_type="application/x-www-form-urlencoded", headers={"X-CSRFToken": token})
    assert error(response, 413)["code"] == "request.too_large"
    browser = Client(raise_request_exception=False)
    browser.force_login(clerk)
    response = browser.post("/api/letters", data=big_json(), content_type="application/json")
    assert error(response, 413)["code"] == "request.too_large"


def test_the_web_pages_do_not_500_on_a_body_over_the_limit(clerk: Person) -> None:
    form = "username=clerk&password=" + "x" * 2_700_000
    anonymous = Client(raise_request_exception=False)
    response = anonymous.post("/accounts/login/", data=form, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413 and "ใหญ่เกินกำหนด" in response.content.decode()
    assert b"Traceback" not in response.content
    browser = Client(raise_request_exception=False)
    browser.force_login(clerk)
    for path in ("/letters/new/", "/letters/preview/", "/inbox/register/"):
        response = browser.post(path, data=form, content_type="application/x-www-form-urlencoded")
        assert response.status_code == 413, (path, response.status_code)
        assert b"Traceback" not in response.content


# ---- offsets and limits of every paginated list -----------------------------------------------------


def test_every_list_refuses_an_offset_beyond_64_bits_or_negative(a: Side) -> None:
    clerk = a.apis["clerk"]
    extra = {"/registers/entries": {"organisation": a.org.pk}}
    for path in LIST_ROUTES:
        params = extra.get(path, {})
        for offset in [*TOO_BIG, 2**63 + 1, -1, -(2**63), -(2**64), "1e3", "ten", "1.5", ""]:
            response = clerk.get(path, **params, offset=offset)
            assert set(problems_of(response)) == {"offset"}, (path, offset)
        for limit in [0, 201, 2**63, 2**64, -1]:
            assert "limit" in problems_of(clerk.get(path, **params, limit=limit)), (path, limit)
        # 2^63 − 1 is the largest offset SQLite (and PostgreSQL) can take: an empty page, not an error.
        response = clerk.get(path, **params, offset=DB_INT_MAX)
        assert response.status_code == 200, (path, response.content)
        assert response.json()["items"] == [] and response.json()["offset"] == DB_INT_MAX


def test_the_offset_error_names_the_field_in_thai_and_english(a: Side) -> None:
    body = error(a.apis["clerk"].get("/letters", offset=2**64), 400)
    assert body["problems"] == [{
        "field": "offset", "code": "schema.less_than_equal", "message_th": "ตำแหน่งเริ่มต้น: ค่ามากเกินกำหนด",
        "message_en": f"offset: Input should be less than or equal to {DB_INT_MAX}",
    }]


def test_the_paging_bounds_are_in_the_openapi_document() -> None:
    doc = api.get_openapi_schema()
    for path in LIST_ROUTES:
        parameters = {p["name"]: p["schema"] for p in doc["paths"][f"/api{path}"]["get"]["parameters"]}
        assert parameters["offset"]["minimum"] == 0 and parameters["offset"]["maximum"] == DB_INT_MAX, path
        assert parameters["limit"]["minimum"] == 1 and parameters["limit"]["maximum"] == 200, path


# ---- ids ---------------------------------------------------------------------------------------------


def _operations() -> list[tuple[str, str, list[str]]]:
    """Every operation of the published document with its path parameters: (method, path, names)."""
    doc = api.get_openapi_schema()
    found = []
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
            if names:
                found.append((method, path, names))
    return found


def test_every_id_path_parameter_is_declared_as_a_64_bit_id() -> None:
    doc = api.get_openapi_schema()
    operations = _operations()
    assert len(operations) >= 25  # letters, workflow, inbox, registers, directory, tokens, verify
    for method, path, _names in operations:
        for parameter in doc["paths"][path][method]["parameters"]:
            if parameter["in"] == "path":
                schema = parameter["schema"]
                assert schema["type"] == "integer", (method, path, parameter)
                assert (schema["minimum"], schema["maximum"]) == (1, DB_INT_MAX), (method, path, parameter)


def test_every_id_path_parameter_refuses_ids_that_cannot_exist(a: Side) -> None:
    clerk = a.apis["clerk"]
    for method, path, names in _operations():
        for value in [*TOO_BIG, 0]:
            url = re.sub(r"\{(\w+)\}", str(value), path)
            response = clerk.call(method, url, {})
            assert response.status_code != 500, (method, url, response.content)
            problems = problems_of(response)
            assert set(names) <= set(problems), (method, url, problems)
            expected = "schema.greater_than_equal" if value == 0 else "schema.less_than_equal"
            assert all(problems[name] == expected for name in names), (method, url, problems)
        # The largest id SQLite can hold: a well-formed id of nothing.
        url = re.sub(r"\{(\w+)\}", str(DB_INT_MAX), path)
        response = clerk.call(method, url, {})
        assert response.status_code in (400, 404), (method, url, response.content)
        if method == "get":
            assert error(response, 404)["code"] == "not_found", url
    # Digits beyond what Python parses (4300) are no route at all: the JSON 404.
    assert error(clerk.get("/letters/" + "9" * 5000), 404)["code"] == "not_found"


def test_ids_in_bodies_and_queries_are_bounded_too(a: Side) -> None:
    clerk = a.apis["clerk"]
    letter = create_letter(a.org, example(), author=a.people["clerk"])
    before = counts()
    for big in TOO_BIG:
        # The fuzzer's case: the id in the path, with a valid body.
        response = clerk.put(f"/letters/{big}/recipients", {"to": [a.org.pk]})
        assert problems_of(response) == {"letter_id": "schema.less_than_equal"}
        assert problems_of(clerk.put(f"/letters/{letter.pk}/recipients", {"to": [big]})) == {
            "to.0": "schema.less_than_equal"}
        assert problems_of(clerk.put(f"/letters/{letter.pk}/recipients", {"to": [a.org.pk], "cc": [big]})) == {
            "cc.0": "schema.less_than_equal"}
        assert problems_of(clerk.post(f"/letters/{letter.pk}/submit", {"reviewer_ids": [big], "signer_id": big})) == {
            "reviewer_ids.0": "schema.less_than_equal", "signer_id": "schema.less_than_equal"}
        response = clerk.post("/letters", {"organisation_id": big, "owner_unit_id": big, "content": example()})
        assert problems_of(response) == {"organisation_id": "schema.less_than_equal",
                                         "owner_unit_id": "schema.less_than_equal"}
        assert problems_of(a.apis["signer"].post(f"/letters/{letter.pk}/sign",
                                                 {"password": PASSWORD, "certificate_id": big})) == {
            "certificate_id": "schema.less_than_equal"}
        for path in ("/letters", "/inbox", "/registers/entries", "/directory/people", "/registers/export"):
            assert problems_of(clerk.get(path, organisation=big)) == {"organisation": "schema.less_than_equal"}
        assert problems_of(clerk.get("/registers/entries", organisation=a.org.pk, number=big)) == {
            "number": "schema.less_than_equal"}
    assert counts() == before
    assert Letter.objects.get(pk=letter.pk).recipients.count() == 0


def test_ids_of_objects_that_do_not_exist_at_the_64_bit_edge(a: Side) -> None:
    clerk = a.apis["clerk"]
    letter = create_letter(a.org, example(), author=a.people["clerk"])
    body = error(clerk.put(f"/letters/{letter.pk}/recipients", {"to": [DB_INT_MAX]}), 404)
    assert body["problems"][0]["field"] == "to.0" and body["problems"][0]["code"] == "unknown"
    assert error(clerk.get("/letters", organisation=DB_INT_MAX), 404)["code"] == "not_found"


def test_sqlite_and_postgresql_hold_exactly_64_bit_signed_integers() -> None:
    """``DB_INT_MAX`` is what the database takes: one more is refused by the driver or the database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT CAST(%s AS BIGINT)", [DB_INT_MAX])
        assert cursor.fetchone()[0] == DB_INT_MAX
        cursor.execute("SELECT CAST(%s AS BIGINT)", [-DB_INT_MAX - 1])
        assert cursor.fetchone()[0] == -(2**63)
    for value in (DB_INT_MAX + 1, -(2**63) - 1):
        with pytest.raises((OverflowError, DataError)), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT CAST(%s AS BIGINT)", [value])
            cursor.fetchone()


def test_a_value_the_database_cannot_store_is_400_not_500(a: Side, monkeypatch: pytest.MonkeyPatch) -> None:
    """The net under every input the schemas do not bound: the driver's OverflowError, the database's DataError."""
    for exc in (OverflowError("Python int too large to convert to SQLite INTEGER"),
                DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")):
        def explode(*args: object, exc: Exception = exc, **kwargs: object) -> None:
            raise exc

        monkeypatch.setattr("saraban.api.routers.letters.create_letter", explode)
        response = a.apis["clerk"].post("/letters", {"content": example()})
        body = error(response, 400)
        assert body["code"] == "request.out_of_range"
        assert b"SQLite" not in response.content and b"NUL (0x00)" not in response.content


def test_a_nul_character_is_a_field_problem_on_every_database(a: Side) -> None:
    """PostgreSQL cannot hold NUL (U+0000) in text, SQLite can: the schemas refuse it, so both answer 400."""
    clerk = a.apis["clerk"]
    cases: list[tuple[str, dict[str, Any]]] = [
        ("/letters", {"q": "ab\x00cd"}), ("/directory/organisations", {"q": "\x00"}),
        ("/directory/people", {"q": "\x00", "role": "signer\x00"}),
        ("/registers/entries", {"organisation": a.org.pk, "q": "x\x00"}),
    ]
    for path, params in cases:
        expected = {name: "schema.string_nul" for name, value in params.items() if "\x00" in str(value)}
        assert problems_of(clerk.get(path, **params)) == expected, path
    body = error(clerk.post("/tokens", {"name": "ใหม่\x00"}), 400)
    assert body["problems"] == [{
        "field": "name", "code": "schema.string_nul", "message_th": "ชื่อ: มีอักขระ NUL (U+0000) ซึ่งใช้ไม่ได้",
        "message_en": "name: must not contain the NUL character (U+0000)",
    }]
    letter = create_letter(a.org, example(), author=a.people["clerk"])
    body = error(clerk.post(f"/letters/{letter.pk}/cancel", {"reason": "\x00"}), 400)
    assert body["problems"][0]["field"] == "reason"


# ---- unknown query keys ------------------------------------------------------------------------------


def test_unknown_query_keys_are_ignored_on_every_route(a: Side) -> None:
    clerk = a.apis["clerk"]
    letter = create_letter(a.org, example(), author=a.people["clerk"])
    for path, params in [
        *[(p, {"organisation": a.org.pk} if p == "/registers/entries" else {}) for p in LIST_ROUTES],
        ("/me", {}), ("/work", {}), ("/tokens", {}), ("/directory/my-organisations", {}),
        (f"/letters/{letter.pk}", {}), (f"/directory/organisations/{a.org.pk}", {}),
    ]:
        plain = clerk.get(path, **params)
        assert plain.status_code == 200, (path, plain.content)
        for unknown in ({"colour": "red"}, {"paging": "1"}, {"limit[]": "1"}, {"q[]": "x"}, {"": "1"},
                        {"ชื่อ": "ค่า"}, {"offset.x": "1"}, {"items": "1"}):
            response = clerk.get(path, **params, **unknown)
            assert response.status_code == 200, (path, unknown, response.content)
            assert response.json() == plain.json(), (path, unknown)


def test_more_query_keys_than_django_parses_is_400_on_every_route_with_a_query(a: Side) -> None:
    """Over ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` (1000) keys Django refuses to parse the query string: every
    route that reads its query answers 400; a route without query parameters never reads it (ignored)."""
    many = "&".join(f"k{i}=1" for i in range(1001))
    clerk = a.apis["clerk"]
    doc = api.get_openapi_schema()
    with_query = [
        path for path, operations in doc["paths"].items() if "get" in operations and "{" not in path
        and any(p["in"] == "query" for p in operations["get"].get("parameters", []))
    ]
    assert {f"/api{p}" for p in LIST_ROUTES} | {"/api/registers/export"} <= set(with_query)
    for path in with_query:
        body = error(clerk.client.get(f"{path}?{many}"), 400)
        assert body["code"] == "request.too_many_fields", path
        assert "1000" in body["message_th"] and "1000" in body["message_en"]
    for path in ("/api/me", "/api/tokens", "/api/work"):
        assert clerk.client.get(f"{path}?{many}").status_code == 200, path
    # Too many multipart fields are refused the same way (the public verification upload).
    anonymous = Client(raise_request_exception=False)
    fields: dict[str, Any] = {f"k{i}": "1" for i in range(1001)}
    fields["pdf"] = SimpleUploadedFile("a.pdf", b"%PDF-1.7", content_type="application/pdf")
    assert error(anonymous.post("/api/verify", data=fields), 400)["code"] == "request.too_many_fields"
    # Without a token the answer is the 401 (authentication comes first), never a 500.
    assert error(anonymous.get(f"/api/directory/organisations?{many}"), 401)["code"] == "auth.required"
    # 1000 keys are still fine.
    few = "&".join(f"k{i}=1" for i in range(999))
    assert clerk.client.get(f"/api/directory/organisations?{few}").status_code == 200
