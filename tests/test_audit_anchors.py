"""Anchoring the audit chains outside the database: a deleted tail with a rewritten head is found."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from saraban.audit.anchors import anchor_chains, verify_anchors
from saraban.audit.models import AuditChain, AuditDatabase, AuditEvent
from saraban.audit.selectors import verify_all_chains
from saraban.audit.services import EventSpec, append_events
from saraban.directory.models import Organisation
from saraban.directory.services import update_organisation
from saraban.signatures.daily import run_daily_jobs


@pytest.fixture
def anchors(tmp_path: Path, settings: Any) -> Path:
    """The anchor file of the test, in its temporary folder (and no TSA)."""
    settings.SARABAN_AUDIT_ANCHORS = tmp_path / "audit-anchors.jsonl"
    settings.SARABAN_PADES = {"tsa_url": "", "level": ""}
    return Path(settings.SARABAN_AUDIT_ANCHORS)


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def chain_of(org: Organisation) -> str:
    return f"org:{org.pk}"


def verify(capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``saraban audit verify``: its exit code, stdout and stderr."""
    try:
        call_command("audit", "verify")
    except CommandError as failed:
        code = failed.returncode
    else:
        code = 0
    out = capsys.readouterr()
    return code, out.out, out.err


def drop_triggers() -> None:
    """Let the test tamper with the trail (as test_audit.py does; rolled back with the test's transaction)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER audit_event_no_change ON audit_auditevent")
        else:
            cursor.execute("DROP TRIGGER audit_event_no_update")
            cursor.execute("DROP TRIGGER audit_event_no_delete")


def delete_tail(key: str, keep: int) -> None:
    """Delete the chain's events after ``keep`` and rewrite its head to the last kept event."""
    drop_triggers()
    AuditEvent.objects.filter(chain=key, position__gt=keep).delete()
    last = AuditEvent.objects.get(chain=key, position=keep)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditchain SET length = %s, head_hash = %s WHERE key = %s",
                       [keep, last.hash, key])


@pytest.mark.django_db
def test_anchoring_writes_each_moved_head_once_to_the_file_and_the_log(
    agency: Organisation, anchors: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    update_organisation(agency, phone="0 2283 4001")
    with caplog.at_level(logging.INFO, logger="saraban.audit.anchors"):
        first = anchor_chains()
    heads = {head.key: head for head in AuditChain.objects.filter(length__gt=0)}
    written = lines(anchors)
    assert {line["chain"] for line in written} == set(heads) and len(written) == len(heads)
    mine = next(line for line in written if line["chain"] == chain_of(agency))
    assert mine["organisation_id"] == agency.pk and mine["type"] == "head"
    assert (mine["position"], mine["hash"]) == (heads[chain_of(agency)].length, heads[chain_of(agency)].head_hash)
    assert mine["genesis"] == AuditEvent.objects.get(chain=chain_of(agency), position=1).hash
    assert mine["database"] == AuditDatabase.objects.get().uuid and mine["anchored_at"]
    assert len(first.heads) == len(heads) and not first.breaks and not first.timestamped
    assert mine["hash"] in caplog.text and "audit anchor" in caplog.text

    # Nothing new: nothing written. One organisation changes: only its chain is anchored again.
    again = anchor_chains()
    assert again.heads == [] and again.unchanged == len(heads) and lines(anchors) == written
    update_organisation(agency, phone="0 2283 4002")
    third = anchor_chains()
    assert [line["chain"] for line in third.heads] == [chain_of(agency)]
    assert third.heads[0]["position"] == mine["position"] + 1
    assert len(lines(anchors)) == len(written) + 1


@pytest.mark.django_db
def test_a_deleted_tail_with_a_rewritten_head_fails_audit_verify(
    agency: Organisation, anchors: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    for n in range(3):
        update_organisation(agency, phone=f"0 2283 400{n}")
    call_command("audit", "anchor")
    capsys.readouterr()
    code, out, _err = verify(capsys)
    assert code == 0 and "OK" in out and "anchored head(s) hold" in out

    anchored = AuditChain.objects.get(key=chain_of(agency)).length
    delete_tail(chain_of(agency), keep=anchored - 2)
    _checked, breaks = verify_all_chains()
    assert breaks == []  # the chain alone still verifies: this is what the anchors are for
    code, _out, err = verify(capsys)
    assert code == 1
    assert f"organisation {agency.pk}" in err and f"anchored head #{anchored} is missing" in err
    assert f"the chain now ends at #{anchored - 2}" in err and f"{chain_of(agency)} position {anchored}" in err


@pytest.mark.django_db
def test_a_rewritten_tail_that_is_longer_again_is_found_by_its_hash(
    agency: Organisation, anchors: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    for n in range(2):
        update_organisation(agency, phone=f"0 2283 400{n}")
    anchor_chains()
    anchored = AuditChain.objects.get(key=chain_of(agency)).length
    delete_tail(chain_of(agency), keep=anchored - 1)
    forged = [EventSpec(action="directory.organisation_updated", object_type="organisation", object_id=agency.pk)]
    append_events(agency.pk, forged * 3)  # a chain that verifies, longer than the anchored one
    assert verify_all_chains()[1] == []
    code, _out, err = verify(capsys)
    assert code == 1 and f"organisation {agency.pk}" in err and f"event #{anchored} differs from its anchor" in err

    # Anchoring refuses to bless the rewritten chain.
    with pytest.raises(CommandError) as refused:
        call_command("audit", "anchor")
    assert refused.value.returncode == 1
    assert "NOT ANCHORED" in capsys.readouterr().err


@pytest.mark.django_db
def test_a_replaced_database_identity_does_not_hide_the_break(
    agency: Organisation, anchors: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    update_organisation(agency, phone="0 2283 4001")
    update_organisation(agency, phone="0 2283 4002")
    anchor_chains()
    AuditDatabase.objects.update(uuid="f" * 32)  # as if the anchors belonged to another database
    anchored = AuditChain.objects.get(key=chain_of(agency)).length
    delete_tail(chain_of(agency), keep=anchored - 1)
    code, _out, err = verify(capsys)
    assert code == 1 and f"anchored head #{anchored} is missing" in err


@pytest.mark.django_db
def test_anchors_of_another_database_are_counted_not_checked(
    agency: Organisation, anchors: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    other = {"type": "head", "database": "0" * 32, "run": "r", "chain": chain_of(agency), "organisation_id": agency.pk,
             "position": 999, "hash": "a" * 64, "genesis": "b" * 64, "anchored_at": "2026-01-01T00:00:00+00:00"}
    anchors.write_text(json.dumps(other) + "\n", "utf-8")
    code, out, _err = verify(capsys)
    assert code == 0 and "1 anchor(s) of other databases not checked" in out


@pytest.mark.django_db
def test_an_unreadable_anchor_line_fails_but_a_torn_last_line_is_only_noted(
    agency: Organisation, anchors: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    anchor_chains()
    good = anchors.read_text("utf-8")
    anchors.write_text(good + '{"type": "head", "chain"', "utf-8")  # a crash in the middle of a write
    code, _out, err = verify(capsys)
    assert code == 0 and "cut short" in err
    update_organisation(agency, phone="0 2283 4001")
    anchor_chains()  # ends the cut line and marks it as such
    cut = len(good.splitlines()) + 1
    assert anchors.read_text("utf-8").splitlines()[cut] == f'{{"line":{cut},"type":"torn"}}'
    code, _out, err = verify(capsys)
    assert code == 0 and f"line {cut} was cut short" in err
    anchors.write_text("not json\n" + good, "utf-8")
    code, _out, err = verify(capsys)
    assert code == 1 and "anchor file line 1" in err and "unreadable anchor line" in err


@pytest.mark.django_db
def test_the_daily_jobs_anchor_the_audit_chains(agency: Organisation, anchors: Path) -> None:
    result = run_daily_jobs()
    assert result.audit_anchors["anchored"] >= 1 and not result.audit_anchors["broken"]
    assert chain_of(agency) in {line["chain"] for line in lines(anchors)}
    assert run_daily_jobs().audit_anchors["anchored"] == 0  # a second run the same day adds nothing


@pytest.mark.django_db
def test_verify_without_an_anchor_file_still_checks_the_chains(agency: Organisation, anchors: Path) -> None:
    report = verify_anchors()
    assert report.checked == 0 and report.breaks == [] and not anchors.exists()
