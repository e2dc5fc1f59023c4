"""The API's errors: one JSON shape, fitting statuses, fields named in Thai and English, nothing saved."""

from __future__ import annotations

import json
from typing import Any

import pytest

from saraban.audit.models import AuditEvent
from saraban.correspondence.models import Letter, LetterStatus
from saraban.correspondence.services import create_letter
from saraban.correspondence.workflow import submit_for_review
from saraban.directory.models import Organisation, Person
from saraban.documents.models import StoredFile
from saraban.inbox.models import IncomingLetter
from saraban.registers.models import RegisterEntry
from saraban.signatures.models import Signature

from . import Api, Side, example, side_a

SHAPE = {"code", "message_th", "message_en", "problems"}


@pytest.fixture
def a(agency: Organisation, clerk: Person, signer: Person) -> Side:
    return side_a(agency, clerk, signer)


def error(response: Any, status: int) -> dict[str, Any]:
    """The error body of a response that must have ``status`` and the one error shape."""
    assert response.status_code == status, response.content.decode()
    assert response["Content-Type"].startswith("application/json")
    body: dict[str, Any] = json.loads(response.content)
    assert set(body) == SHAPE and body["message_th"] and body["message_en"]
    for problem in body["problems"]:
        assert set(problem) == {"field", "code", "message_th", "message_en"}
    return body


def counts() -> tuple[int, ...]:
    """Rows of every table a failed request could have written to."""
    return (
        Letter.objects.count(), AuditEvent.objects.count(), RegisterEntry.objects.count(),
        IncomingLetter.objects.count(), StoredFile.objects.count(), Signature.objects.count(),
    )


@pytest.mark.django_db
def test_malformed_json_is_400_and_saves_nothing(a: Side) -> None:
    before = counts()
    body = error(a.apis["clerk"].post("/letters", '{"content": {"type": "external",', content_type="application/json"),
                 400)
    assert body["code"] == "request.malformed"
    body = error(a.apis["clerk"].post("/letters", ["not", "an", "object"]), 400)
    assert body["code"] == "validation_failed"
    assert counts() == before


@pytest.mark.django_db
def test_missing_letter_fields_are_named_in_thai_and_english_at_submission(a: Side) -> None:
    """An unfinished draft is kept; submitting it is refused (422, a rule of its type) naming each
    missing field in Thai and English, and changes nothing."""
    clerk = a.apis["clerk"]
    draft = clerk.post("/letters", {"content": example(subject="", salutation="")})
    assert draft.status_code == 201, draft.content.decode()
    letter_id = draft.json()["id"]
    ok = clerk.put(f"/letters/{letter_id}/recipients", {"to": [a.org.pk]})
    assert ok.status_code == 200, ok.content.decode()
    before = counts()
    body = error(clerk.post(f"/letters/{letter_id}/submit", {"signer_id": a.people["signer"].pk}), 422)
    assert body["code"] == "validation_failed"
    problems = {p["field"]: p for p in body["problems"]}
    assert set(problems) == {"subject", "salutation"}
    assert problems["subject"]["message_th"] == "ต้องระบุเรื่อง"
    assert problems["subject"]["message_en"] == "The subject is required"
    assert counts() == before
    assert Letter.objects.get(pk=letter_id).status == "draft"


@pytest.mark.django_db
def test_missing_request_fields_are_named_in_thai_and_english(a: Side) -> None:
    body = error(a.apis["clerk"].post("/letters", {}), 400)
    assert body["problems"][0]["field"] == "content"
    assert body["problems"][0]["message_th"] == "ต้องระบุเนื้อหาหนังสือ"
    assert body["problems"][0]["message_en"] == "The field “content” is required"
    body = error(a.apis["clerk"].post("/letters", {"content": {"subject": "x", "colour": "red"}}), 400)
    fields = {p["field"]: p for p in body["problems"]}
    assert fields["content.type"]["message_th"] == "ต้องระบุประเภทหนังสือ"
    assert fields["content.colour"]["code"] == "schema.extra_forbidden"
    letter = create_letter(a.org, example(), author=a.people["clerk"])
    body = error(a.apis["signer"].post(f"/letters/{letter.pk}/sign", {}), 400)
    assert body["problems"] == [{
        "field": "password", "code": "schema.missing", "message_th": "ต้องระบุรหัสผ่าน",
        "message_en": "The field “password” is required",
    }]


@pytest.mark.django_db
def test_a_wrong_state_is_409(a: Side) -> None:
    letter = create_letter(a.org, example(), author=a.people["clerk"])
    body = error(a.apis["reviewer"].post(f"/letters/{letter.pk}/approve", {}), 409)
    assert body["code"] == "letter.wrong_state"
    body = error(a.apis["clerk"].post(f"/letters/{letter.pk}/send"), 409)
    assert body["code"] == "letter.wrong_state"
    assert Letter.objects.get(pk=letter.pk).status == LetterStatus.DRAFT


@pytest.mark.django_db
def test_a_wrong_password_is_403_and_the_letter_is_unchanged(a: Side) -> None:
    letter = create_letter(a.org, example(), author=a.people["clerk"])
    submit_for_review(letter, actor=a.people["clerk"], reviewers=[], signer=a.people["signer"])
    before_content = Letter.objects.get(pk=letter.pk).content
    before = counts()
    response = a.apis["signer"].post(f"/letters/{letter.pk}/sign", {"password": "Wrong-Secret-999"})
    body = error(response, 403)
    assert body["code"] == "signature.reauthentication_failed"
    assert b"Wrong-Secret-999" not in response.content
    stored = Letter.objects.get(pk=letter.pk)
    assert stored.status == LetterStatus.APPROVED and stored.pdf_id is None and stored.content == before_content
    assert counts() == before


@pytest.mark.django_db
def test_someone_else_may_not_sign(a: Side) -> None:
    letter = create_letter(a.org, example(), author=a.people["clerk"])
    submit_for_review(letter, actor=a.people["clerk"], reviewers=[], signer=a.people["signer"])
    body = error(a.apis["clerk"].post(f"/letters/{letter.pk}/sign", {"password": "x-Pass-1234"}), 403)
    assert body["code"] == "letter.not_signer"


@pytest.mark.django_db
def test_unauthenticated_is_401(a: Side) -> None:
    for api in (Api(None), Api("srb_not-a-real-token"), Api("garbage")):
        response = api.get("/letters")
        assert error(response, 401)["code"] == "auth.required"
        assert response["WWW-Authenticate"] == "Bearer"
        assert error(api.post("/letters", {"content": example()}), 401)["code"] == "auth.required"
    assert Letter.objects.count() == 0


@pytest.mark.django_db
def test_an_unknown_id_is_404(a: Side) -> None:
    body = error(a.apis["clerk"].get("/letters/999999"), 404)
    assert body["code"] == "not_found"
    assert error(a.apis["clerk"].get("/api/no/such/route"), 404)["code"] == "not_found"


@pytest.mark.django_db
def test_an_unexpected_error_is_a_generic_500(a: Side, monkeypatch: pytest.MonkeyPatch, caplog: Any) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr("saraban.api.routers.letters.create_letter", explode)
    response = a.apis["clerk"].post("/letters", {"content": example()})
    body = error(response, 500)
    assert body["code"] == "server_error"
    assert b"secret internal detail" not in response.content and b"Traceback" not in response.content
    assert "secret internal detail" in caplog.text  # logged for the administrator


@pytest.mark.django_db
def test_a_refused_paper_registration_saves_nothing(a: Side) -> None:
    before = counts()
    response = a.apis["clerk"].client.post("/api/inbox/paper", data={
        "sender_name": "จังหวัดนนทบุรี", "subject": "ขอเชิญประชุม", "scans": _upload(b"not a pdf", "application/pdf"),
    })
    body = error(response, 422)  # well-formed, but the file is not what it claims: a rule, not the schema
    assert body["problems"][0]["field"] == "scan" and body["problems"][0]["message_th"] == "ไฟล์นี้ไม่ใช่ PDF"
    response = a.apis["clerk"].client.post("/api/inbox/paper", data={
        "subject": "ขอเชิญประชุม", "scans": _upload(b"%PDF-1.7", "application/pdf"),
    })
    body = error(response, 400)
    assert body["problems"][0]["field"] == "sender_name"
    assert body["problems"][0]["message_th"] == "ต้องระบุหน่วยงานผู้ส่ง (จาก)"
    assert counts() == before


def _upload(data: bytes, content_type: str) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("scan.pdf", data, content_type=content_type)


@pytest.mark.django_db
def test_a_body_of_a_media_type_the_operation_does_not_read_is_415_and_saves_nothing(a: Side) -> None:
    """415 before the operation runs: text for a JSON operation, JSON in another charset, JSON for an upload."""
    clerk = a.apis["clerk"]
    before = counts()
    for content_type, body in (("text/plain", "name=x"), ("application/xml", "<name>x</name>"),
                               ("application/json; charset=iso-8859-15", '{"name": "x"}')):
        refused = error(clerk.call("post", "/tokens", body, content_type=content_type), 415)
        assert refused["code"] == "request.unsupported_media_type", content_type
        assert refused["message_th"].startswith("ชนิดของข้อมูลในคำขอไม่รองรับ") and refused["message_en"]
    upload = error(clerk.call("post", "/inbox/paper", '{"subject": "x"}', content_type="application/json"), 415)
    assert "multipart/form-data" in upload["message_en"]
    assert counts() == before
    # JSON in UTF-8, said so or not, is read; a POST without a body is judged by its operation (not 415)
    assert clerk.call("post", "/tokens", '{"name": "ก"}', content_type="application/json; charset=UTF-8"
                      ).status_code == 201
    bodyless = clerk.client.generic("POST", "/api/tokens")
    assert error(bodyless, 400)["problems"][0]["code"] == "schema.missing"


def test_the_document_links_what_an_answer_names_to_the_operations_on_it() -> None:
    """A new letter's id leads to every operation on a letter (Schemathesis's stateful run follows them)."""
    from saraban.api.main import api

    doc = api.get_openapi_schema()
    links = doc["paths"]["/api/letters"]["post"]["responses"][201]["links"]
    targets = {link["operationId"] for link in links.values()}
    letter_operations = {operation["operationId"] for path, item in doc["paths"].items()
                         if "{letter_id}" in path for operation in item.values()}
    assert targets == letter_operations and len(targets) >= 12
    assert all(link["parameters"] == {"letter_id": "$response.body#/id"} for link in links.values())
    paper = doc["paths"]["/api/inbox/paper"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert paper["encoding"]["scans"]["contentType"] == "application/pdf, image/png, image/jpeg"
    assert paper["schema"]["properties"]["scans"]["minItems"] == 1
    assert "anyOf" not in paper["schema"]["properties"]["letter_date"]  # a form field is never null
