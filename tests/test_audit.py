"""The audit trail: every change is recorded, the chain verifies, and tampering is found."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.utils import DatabaseError

from saraban.audit.models import AuditEvent
from saraban.audit.selectors import verify_all_chains
from saraban.directory.models import Organisation
from saraban.directory.services import update_organisation


def _drop_triggers() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER audit_event_no_change ON audit_auditevent")
        else:
            cursor.execute("DROP TRIGGER audit_event_no_update")
            cursor.execute("DROP TRIGGER audit_event_no_delete")


@pytest.mark.django_db
def test_directory_changes_are_audited_with_digests(agency: Organisation) -> None:
    update_organisation(agency, phone="0 2283 4001")
    event = AuditEvent.objects.filter(action="directory.organisation_updated").get()
    assert event.organisation_id == agency.pk and event.object_id == str(agency.pk)
    assert event.before_digest and event.after_digest and event.before_digest != event.after_digest


@pytest.mark.django_db
def test_audit_verify_passes_on_an_intact_trail(agency: Organisation, capsys: pytest.CaptureFixture[str]) -> None:
    update_organisation(agency, phone="0 2283 4001")
    call_command("audit", "verify")
    assert "OK" in capsys.readouterr().out


@pytest.mark.django_db
def test_the_database_refuses_to_change_or_delete_events(agency: Organisation) -> None:
    for statement in ("UPDATE audit_auditevent SET action = 'x'", "DELETE FROM audit_auditevent"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    with pytest.raises(RuntimeError):
        AuditEvent.objects.first().delete()  # type: ignore[union-attr]


@pytest.mark.django_db
def test_a_changed_event_is_named_by_audit_verify(agency: Organisation, capsys: pytest.CaptureFixture[str]) -> None:
    update_organisation(agency, phone="0 2283 4001")
    update_organisation(agency, phone="0 2283 4002")
    victim = AuditEvent.objects.filter(action="directory.organisation_updated").order_by("position").first()
    assert victim is not None
    _drop_triggers()
    AuditEvent.objects.filter(pk=victim.pk).update(detail={"forged": True})
    with pytest.raises(CommandError) as failed:
        call_command("audit", "verify")
    assert failed.value.returncode == 1
    err = capsys.readouterr().err
    assert f"position {victim.position} (event {victim.pk})" in err and "content changed" in err


@pytest.mark.django_db
def test_removing_the_newest_event_is_found(agency: Organisation) -> None:
    update_organisation(agency, phone="0 2283 4001")
    _drop_triggers()
    AuditEvent.objects.filter(pk=AuditEvent.objects.order_by("-id").values("id")[:1]).delete()
    _checked, breaks = verify_all_chains()
    assert len(breaks) == 1 and "head says" in breaks[0].reason
