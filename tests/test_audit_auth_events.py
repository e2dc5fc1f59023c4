"""Sign-ins (failed and successful) and API token creation are in the audit trail, without secrets."""

from __future__ import annotations

import json

import pytest
from django.core import serializers
from django.core.management import call_command
from django.test import Client

from saraban.api.auth import issue_token
from saraban.api.models import ApiToken
from saraban.audit.models import AuditEvent
from saraban.audit.selectors import verify_all_chains
from saraban.directory.models import Organisation, Person

PASSWORD = "x-Pass-1234"  # the conftest people's password
WRONG = "Wrong-Guess-4321"


def everything_kept() -> str:
    """Every audit event, serialised: what must never hold a password or a token."""
    return serializers.serialize("json", AuditEvent.objects.all())


def sign_in(username: str, password: str, address: str = "192.0.2.7") -> int:
    response = Client(REMOTE_ADDR=address).post("/accounts/login/", {"username": username, "password": password})
    return int(response.status_code)


@pytest.mark.django_db
def test_a_failed_sign_in_of_a_known_user_goes_to_their_organisations_chain(
    agency: Organisation, clerk: Person,
) -> None:
    assert sign_in("clerk", WRONG) == 200  # the form again, with its error
    event = AuditEvent.objects.get(action="auth.sign_in_failed")
    assert event.chain == f"org:{agency.pk}" and event.organisation_id == agency.pk
    assert event.object_type == "person" and event.object_id == str(clerk.pk) and event.actor_id is None
    assert event.detail == {"username": "clerk", "client_address": "192.0.2.7", "known_user": True}
    assert WRONG not in everything_kept()
    assert verify_all_chains()[1] == []


@pytest.mark.django_db
def test_a_failed_sign_in_of_an_unknown_username_goes_to_the_deployment_wide_chain(agency: Organisation) -> None:
    assert sign_in("nobody-here", WRONG, address="198.51.100.9") == 200
    event = AuditEvent.objects.get(action="auth.sign_in_failed")
    assert event.chain == "system" and event.organisation_id is None and event.object_id == ""
    assert event.detail == {"username": "nobody-here", "client_address": "198.51.100.9", "known_user": False}
    assert WRONG not in everything_kept()


@pytest.mark.django_db
def test_a_successful_sign_in_is_recorded(agency: Organisation, clerk: Person) -> None:
    assert sign_in("clerk", PASSWORD) == 302
    event = AuditEvent.objects.get(action="auth.signed_in")
    assert event.chain == f"org:{agency.pk}" and event.actor_id == clerk.pk and event.object_id == str(clerk.pk)
    assert event.detail == {"username": "clerk", "client_address": "192.0.2.7"}
    assert PASSWORD not in everything_kept()
    assert not AuditEvent.objects.filter(action="auth.sign_in_failed").exists()


@pytest.mark.django_db
def test_the_api_token_command_records_who_and_which_token_never_the_token(
    agency: Organisation, clerk: Person, capsys: pytest.CaptureFixture[str],
) -> None:
    call_command("api_token", "create", "--user", "clerk", "--name", "ระบบงานคลัง")
    token = capsys.readouterr().out.strip()
    row = ApiToken.objects.get()
    event = AuditEvent.objects.get(action="api_token.created")
    assert event.chain == f"org:{agency.pk}" and event.object_type == "api_token" and event.object_id == str(row.pk)
    assert event.detail["name"] == "ระบบงานคลัง" and event.detail["owner"] == "clerk"
    assert event.detail["via"] == "saraban api_token create" and event.detail["operator"]
    kept = everything_kept()
    assert token.startswith("srb_") and token not in kept and row.key_sha256 not in kept and row.prefix not in kept


@pytest.mark.django_db
def test_a_token_created_through_the_api_is_recorded_as_the_caller(agency: Organisation, clerk: Person) -> None:
    _row, first = issue_token(clerk, "tests")
    response = Client(headers={"Authorization": f"Bearer {first}"}).post(
        "/api/tokens", json.dumps({"name": "สคริปต์รายงาน"}), content_type="application/json",
    )
    assert response.status_code == 201, response.content
    created = json.loads(response.content)
    event = AuditEvent.objects.get(action="api_token.created", object_id=str(created["id"]))
    assert event.actor_id == clerk.pk and event.detail == {"name": "สคริปต์รายงาน", "owner": "clerk", "via": "api"}
    kept = everything_kept()
    assert created["token"] not in kept and first not in kept
