"""The signed directory document: trust on first use, then only the pinned signer."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from typing import Any

import pytest

from saraban.exchange.asic import Part
from saraban.exchange.directory_document import (
    DIRECTORY_PART,
    directory_document,
    format_fingerprint,
    read_directory_document,
)
from saraban.exchange.envelope import Address, Envelope, pack
from saraban.exchange.identity import Identity
from saraban.exchange.refusals import EnvelopeRefused

from .helpers import ca_issued_seal, letter

ORGANISATIONS: list[dict[str, Any]] = [
    {"identifier": "chiang-mai", "name_th": "ศาลากลางจังหวัดเชียงใหม่", "name_en": "Chiang Mai Provincial Hall",
     "letter_code": "ชม 0017", "kind": "province", "province": "เชียงใหม่", "email": "not published"},
    {"identifier": "tambon-suthep", "name_th": "องค์การบริหารส่วนตำบลสุเทพ", "letter_code": "ชม 72301",
     "kind": "tao", "province": "เชียงใหม่"},
]


def test_a_directory_read_on_first_contact_gives_the_fingerprint_to_confirm(sender: Identity) -> None:
    issued = dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC)
    data = directory_document(sender, "https://saraban.opm.go.th/", ORGANISATIONS, issued_at=issued)
    directory = read_directory_document(data, expected_fingerprint=None)
    assert directory.fingerprint == sender.fingerprint
    assert directory.deployment_id == sender.deployment_id and directory.name == sender.name
    assert directory.endpoint == "https://saraban.opm.go.th" and directory.issued_at == issued
    assert directory.certificate.dump() == sender.certificate.dump()
    assert [o.identifier for o in directory.organisations] == ["chiang-mai", "tambon-suthep"]
    first = directory.organisations[0]
    assert (first.name_th, first.name_en, first.letter_code, first.kind, first.province) == (
        "ศาลากลางจังหวัดเชียงใหม่", "Chiang Mai Provincial Hall", "ชม 0017", "province", "เชียงใหม่")
    assert directory.organisations[1].name_en == ""
    assert directory.accepts_top_secret is False and directory.max_message_bytes is None
    published = read_directory_document(directory_document(sender, "https://x.example", ORGANISATIONS,
                                                           accepts_top_secret=True, max_message_bytes=20_000_000),
                                        expected_fingerprint=sender.fingerprint)
    assert published.accepts_top_secret is True and published.max_message_bytes == 20_000_000
    assert len(format_fingerprint(directory.fingerprint).split(":")) == 32
    # Once confirmed, the fingerprint is pinned (given in any of its written forms).
    assert read_directory_document(data, expected_fingerprint=format_fingerprint(sender.fingerprint)).organisations


def test_a_pinned_peer_whose_directory_is_signed_by_another_key_is_refused(
    sender: Identity, stranger: Identity
) -> None:
    impostor = directory_document(stranger, "https://saraban.opm.go.th", ORGANISATIONS)
    with pytest.raises(EnvelopeRefused) as refusal:
        read_directory_document(impostor, expected_fingerprint=sender.fingerprint)
    assert refusal.value.code == "exchange.unknown_signer" and refusal.value.http_status == 403


def _signed_directory(identity: Identity, document: Any, *, kind: str = "directory") -> bytes:
    part = Part(DIRECTORY_PART, "application/json", json.dumps(document).encode())
    envelope = Envelope(message_id=uuid.uuid4(), kind=kind, created_at=dt.datetime.now(dt.UTC),
                        sender=identity.address(), recipient=None, metadata={}, parts=(part,))
    return pack(envelope, identity.sealing_key)


def _document(identity: Identity, **changes: Any) -> dict[str, Any]:
    document = {"format": "saraban-directory/1", "deployment": identity.deployment_id, "name": identity.name,
                "endpoint": "https://x.example", "certificate": identity.certificate_pem,
                "issued_at": "2026-11-27T09:00:00+07:00", "organisations": ORGANISATIONS[1:]}
    document.update(changes)
    return document


@pytest.mark.parametrize("changes", [
    {"format": "other"},
    {"deployment": "someone-else"},
    {"endpoint": "ftp://x.example"},
    {"issued_at": "2026-11-27T09:00:00"},
    {"organisations": [{"identifier": "x"}]},  # no Thai name
    {"organisations": [{"identifier": "x", "name_th": "ก", "kind": 3}]},
    {"organisations": "all of them"},
    {"certificate": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"},
    {"certificate": 12},
    {"accepts_top_secret": "yes"},
    {"max_message_bytes": -1},
    {"max_message_bytes": True},
])
def test_a_malformed_directory_json(sender: Identity, changes: dict[str, Any]) -> None:
    with pytest.raises(EnvelopeRefused) as refusal:
        read_directory_document(_signed_directory(sender, _document(sender, **changes)), expected_fingerprint=None)
    assert refusal.value.code == "exchange.bad_directory"


def test_the_published_certificate_must_be_the_signers(sender: Identity, stranger: Identity) -> None:
    data = _signed_directory(sender, _document(sender, certificate=stranger.certificate_pem))
    with pytest.raises(EnvelopeRefused) as refusal:
        read_directory_document(data, expected_fingerprint=None)
    assert refusal.value.code == "exchange.bad_directory"


def test_a_letter_is_not_a_directory(sender: Identity, to: Any) -> None:
    data = pack(letter(sender.address("opm-ops"), to), sender.sealing_key)
    with pytest.raises(EnvelopeRefused) as refusal:
        read_directory_document(data, expected_fingerprint=sender.fingerprint)
    assert refusal.value.code == "exchange.bad_directory"


def test_garbage_is_refused_not_raised() -> None:
    for body in (b"", b"<html>502 Bad Gateway</html>", b"PK\x03\x04junk"):
        with pytest.raises(EnvelopeRefused):
            read_directory_document(body, expected_fingerprint=None)


def test_the_directory_of_three_thousand_organisations(sender: Identity) -> None:
    many = [{"identifier": f"lao-{i:04d}", "name_th": f"องค์การบริหารส่วนตำบลทดสอบ {i}", "letter_code": f"ชม {72000 + i}",
             "kind": "tao", "province": "เชียงใหม่"} for i in range(3000)]
    started = time.perf_counter()
    data = directory_document(sender, "https://saraban.chiangmai.go.th", many)
    directory = read_directory_document(data, expected_fingerprint=sender.fingerprint)
    seconds = time.perf_counter() - started
    assert len(directory.organisations) == 3000 and directory.organisations[2999].identifier == "lao-2999"
    assert len(data) < 400_000 and seconds < 5, (len(data), seconds)


def test_organisation_identifiers_are_listed_once(sender: Identity) -> None:
    with pytest.raises(ValueError):
        directory_document(sender, "https://x.example", [ORGANISATIONS[0], ORGANISATIONS[0]])


def test_first_contact_accepts_only_a_self_signed_signer() -> None:
    seal, _ = ca_issued_seal()
    document = {"format": "saraban-directory/1", "deployment": "dep-x", "name": "x", "endpoint": "https://x.example",
                "certificate": "", "issued_at": "2026-11-27T09:00:00+07:00", "organisations": []}
    part = Part(DIRECTORY_PART, "application/json", json.dumps(document).encode())
    envelope = Envelope(message_id=uuid.uuid4(), kind="directory", created_at=dt.datetime.now(dt.UTC),
                        sender=Address("dep-x"), recipient=None, metadata={}, parts=(part,))
    with pytest.raises(EnvelopeRefused) as refusal:
        read_directory_document(pack(envelope, seal), expected_fingerprint=None)
    assert refusal.value.code == "exchange.unknown_signer"
