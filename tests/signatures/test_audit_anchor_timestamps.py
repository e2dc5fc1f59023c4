"""Audit anchors with an RFC 3161 timestamp from the test PKI's TSA: stored with the anchors, verified."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import cms
from django.core.management import call_command
from django.core.management.base import CommandError

from saraban.audit.anchors import anchor_chains, run_digest, verify_anchors
from saraban.directory.models import Organisation
from saraban.directory.services import update_organisation

from .pki import TestPki


@pytest.fixture
def anchors(tmp_path: Path, settings: Any, pki: TestPki) -> Path:
    """Anchors in the test's folder, the test PKI's TSA configured and its root trusted (nothing else)."""
    settings.SARABAN_HOME = tmp_path  # no SARABAN_HOME/trust of the machine
    settings.SARABAN_AUDIT_ANCHORS = tmp_path / "audit-anchors.jsonl"
    settings.SARABAN_PADES = {"tsa_url": pki.tsa_url, "level": ""}
    settings.SARABAN_TRUST_ROOTS = [str(pki.path("root.cert.pem"))]
    return Path(settings.SARABAN_AUDIT_ANCHORS)


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def verify(capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        call_command("audit", "verify")
    except CommandError as failed:
        code = failed.returncode
    else:
        code = 0
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.django_db
def test_each_anchoring_run_is_timestamped_and_the_token_verifies(
    agency: Organisation, anchors: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    update_organisation(agency, phone="0 2283 4001")
    call_command("audit", "anchor")
    assert "with a timestamp" in capsys.readouterr().out
    written = lines(anchors)
    heads = [line for line in written if line["type"] == "head"]
    [stamp] = [line for line in written if line["type"] == "timestamp"]
    assert stamp["run"] == heads[0]["run"] and stamp["tsa_url"] and stamp["digest"] == run_digest(heads).hex()
    token = cms.ContentInfo.load(base64.b64decode(stamp["token"]))
    tst_info = token["content"]["encap_content_info"]["content"].parsed
    assert tst_info["message_imprint"]["hashed_message"].native == run_digest(heads)

    code, out, _err = verify(capsys)
    assert code == 0 and "1 timestamp(s) verified" in out
    assert verify_anchors().timestamps == 1

    # Nothing new, and the last anchors have their timestamp: nothing is written (and the TSA is not asked).
    assert anchor_chains().heads == [] and lines(anchors) == written


@pytest.mark.django_db
def test_an_anchor_changed_after_its_timestamp_fails_verify(
    agency: Organisation, anchors: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    anchor_chains()
    written = lines(anchors)
    head = next(line for line in written if line["type"] == "head" and line["chain"] == f"org:{agency.pk}")
    # Someone rewrites the anchor to match a shortened chain: the timestamp no longer covers the run.
    update_organisation(agency, phone="0 2283 4001")
    run = anchor_chains()
    assert run.timestamped
    forged = [dict(line, run=head["run"]) if line["type"] == "head" else line for line in lines(anchors)]
    anchors.write_text("".join(json.dumps(line) + "\n" for line in forged), "utf-8")
    code, _out, err = verify(capsys)
    assert code == 1 and "the anchors this timestamp covers were changed or removed" in err


@pytest.mark.django_db
def test_a_timestamp_from_an_untrusted_tsa_fails_verify(
    agency: Organisation, anchors: Path, pki: TestPki, capsys: pytest.CaptureFixture[str],
) -> None:
    run = anchor_chains(tsa_url=pki.untrusted_tsa_url)
    assert run.timestamped
    code, _out, err = verify(capsys)
    assert code == 1 and "TSA is not trusted" in err


@pytest.mark.django_db
def test_an_unreachable_tsa_still_anchors_and_the_next_run_adds_the_timestamp(
    agency: Organisation, anchors: Path, capsys: pytest.CaptureFixture[str], settings: Any, pki: TestPki,
) -> None:
    settings.SARABAN_PADES = {"tsa_url": "http://127.0.0.1:9/tsa", "level": ""}
    with pytest.raises(CommandError) as failed:
        call_command("audit", "anchor")
    assert failed.value.returncode == 1 and "TSA:" in capsys.readouterr().err
    first = lines(anchors)
    assert first and all(line["type"] == "head" for line in first)
    still_down = anchor_chains()  # the TSA still fails: the same heads are not written again
    assert still_down.error and still_down.heads == [] and lines(anchors) == first
    settings.SARABAN_PADES = {"tsa_url": pki.tsa_url, "level": ""}
    again = anchor_chains()
    assert again.timestamped and len(again.heads) == len(first)
    assert verify(capsys)[0] == 0
