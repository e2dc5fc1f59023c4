"""Every check of ``open_envelope`` refuses with its own code, status and Thai and English message."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import zipfile
from typing import Any

import pytest

from saraban.exchange.asic import MANIFEST_NAME, MIMETYPE, SIGNATURE_NAME, Part, build_manifest
from saraban.exchange.cades import sign_detached
from saraban.exchange.envelope import Address, open_envelope, pack
from saraban.exchange.identity import Identity, make_identity
from saraban.exchange.refusals import REFUSALS, EnvelopeRefused

from .helpers import LIMITS, PDF, container, entries_of, letter, letter_metadata, parts_of, raw_zip

RAISED: set[str] = set()  # the codes the tests of this module saw


def refusal_of(data: bytes, trusted: Any, **limits: Any) -> EnvelopeRefused:
    with pytest.raises(EnvelopeRefused) as caught:
        open_envelope(data, trusted=trusted, **{**LIMITS, **limits})
    refusal = caught.value
    RAISED.add(refusal.code)
    assert refusal.http_status == REFUSALS[refusal.code].http_status
    assert refusal.message_th.startswith(REFUSALS[refusal.code].message_th)
    assert refusal.message_en.startswith(REFUSALS[refusal.code].message_en)
    assert refusal.as_dict()["code"] == refusal.code
    return refusal


@pytest.fixture(scope="module")
def good(sender: Identity, to: Address) -> bytes:
    return pack(letter(sender.address("opm-ops"), to), sender.sealing_key)


@pytest.fixture
def pins(sender: Identity) -> set[str]:
    return {sender.fingerprint}


def with_envelope_json(sender: Identity, document: Any, *, raw: bytes | None = None) -> bytes:
    """A properly signed container whose envelope.json is ``document`` (or the bytes ``raw``)."""
    data = raw if raw is not None else json.dumps(document, ensure_ascii=False).encode()
    parts = [Part("envelope.json", "application/json", data), Part("letter.pdf", "application/pdf", PDF),
             Part("enclosures/01-agenda.pdf", "application/pdf", PDF + b"agenda")]
    return container(sender.sealing_key, parts)


def envelope_document(sender: Identity, to: Address, /, **changes: Any) -> dict[str, Any]:
    base = json.loads(letter(sender.address("opm-ops"), to).envelope_json())
    base.update(changes)
    return base


# 1. Size
def test_a_body_over_the_limit(good: bytes, pins: set[str]) -> None:
    refusal = refusal_of(good, pins, max_bytes=len(good) - 1)
    assert refusal.code == "exchange.too_large" and refusal.http_status == 413


# 2. The ZIP
@pytest.mark.parametrize("body", [b"", b"hello", b"PK\x03\x04" + b"\x00" * 100, b"%PDF-1.7\n"])
def test_not_a_zip(body: bytes, pins: set[str]) -> None:
    assert refusal_of(body, pins).code == "exchange.not_zip"


def test_a_truncated_zip(good: bytes, pins: set[str]) -> None:
    assert refusal_of(good[: len(good) // 2], pins).code == "exchange.not_zip"
    assert refusal_of(good[:-10], pins).code == "exchange.not_zip"


def test_a_corrupt_entry_is_not_a_zip(good: bytes, pins: set[str]) -> None:
    at = good.index(PDF[200:260])  # inside the stored PDF: its CRC no longer matches
    broken = good[:at] + bytes([good[at] ^ 0xFF]) + good[at + 1:]
    assert refusal_of(broken, pins).code == "exchange.not_zip"


def test_too_many_entries(good: bytes, pins: set[str]) -> None:
    refusal = refusal_of(good, pins, max_parts=5)  # the container has 6
    assert refusal.code == "exchange.too_many_parts" and refusal.http_status == 413


@pytest.mark.parametrize("name", ["../evil.pdf", "enclosures/../../evil", "/etc/passwd", "C:/windows/x",
                                  "enclosures\\evil.pdf", "a//b", "./x", "bad\x01name"])
def test_unsafe_names(sender: Identity, pins: set[str], name: str) -> None:
    data = container(sender.sealing_key, parts_of(pack(letter(sender.address("x"), Address("b", "y")),
                                                       sender.sealing_key)), extra=[(name, b"x")])
    assert refusal_of(data, pins).code == "exchange.bad_name"


@pytest.mark.filterwarnings("ignore:Duplicate name")
@pytest.mark.parametrize("twice", ["letter.pdf", "LETTER.pdf", "enclosures/01-agenda.pdf/"])
def test_a_repeated_name(good: bytes, sender: Identity, pins: set[str], twice: str) -> None:
    data = container(sender.sealing_key, parts_of(good), extra=[(twice, b"")])
    assert refusal_of(data, pins).code == "exchange.bad_name"


def test_a_zip_bomb_by_total_size(sender: Identity, pins: set[str]) -> None:
    bomb = raw_zip([("mimetype", MIMETYPE.encode()), ("zeros.bin", b"\0" * (20 * 1024 * 1024))])
    assert len(bomb) < 100_000
    refusal = refusal_of(bomb, pins, max_bytes=1024 * 1024)
    assert refusal.code == "exchange.zip_bomb" and refusal.http_status == 413


def test_a_zip_bomb_by_ratio(sender: Identity, pins: set[str]) -> None:
    bomb = raw_zip([("mimetype", MIMETYPE.encode()), ("zeros.bin", b"\0" * (5 * 1024 * 1024))])
    assert refusal_of(bomb, pins, max_uncompressed=10**9).code == "exchange.zip_bomb"


def test_a_header_that_lies_about_the_size(good: bytes, pins: set[str]) -> None:
    # The central directory says envelope.json is 10 bytes long: reading stops there and the CRC fails.
    with zipfile.ZipFile(__import__("io").BytesIO(good)) as archive:
        info = archive.getinfo("envelope.json")
    offset = good.rindex(b"PK\x01\x02", 0, good.rindex(b"envelope.json"))
    size_at = offset + 24  # uncompressed size in the central directory record
    assert int.from_bytes(good[size_at:size_at + 4], "little") == info.file_size
    lying = good[:size_at] + (10).to_bytes(4, "little") + good[size_at + 4:]
    assert refusal_of(lying, pins).code == "exchange.not_zip"


# 3. mimetype
@pytest.mark.parametrize("first", [
    (),  # none
    (("mimetype", b"application/zip"),),  # wrong content
    (("other.txt", b"x"), ("mimetype", MIMETYPE.encode())),  # not first
])
def test_the_mimetype_entry(good: bytes, sender: Identity, pins: set[str], first: Any) -> None:
    data = container(sender.sealing_key, parts_of(good), first=first)
    assert refusal_of(data, pins).code == "exchange.not_asic"


def test_a_container_after_other_bytes(good: bytes, pins: set[str]) -> None:
    # ZIP readers find the archive after leading junk; ASiC wants "mimetype" at the very start.
    assert refusal_of(b"#!/bin/sh\nexit 0\n" + good, pins).code == "exchange.not_asic"


def test_a_compressed_mimetype(good: bytes, pins: set[str]) -> None:
    entries = list(entries_of(good).items())
    data = raw_zip(entries, stored=())  # mimetype deflated too
    assert refusal_of(data, pins).code == "exchange.not_asic"


# 4. The manifest
def _manifest_case(good: bytes, sender: Identity, manifest: bytes) -> bytes:
    return container(sender.sealing_key, parts_of(good), manifest=manifest)


@pytest.mark.parametrize("manifest", [
    b"not xml at all",
    b"<?xml version='1.0'?><asic:ASiCManifest xmlns:asic='http://uri.etsi.org/02918/v1.2.1#'>",  # unclosed
    b"<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'><!ENTITY lol2 '&lol;&lol;&lol;&lol;'>]>"
    b"<asic:ASiCManifest xmlns:asic='http://uri.etsi.org/02918/v1.2.1#'>&lol2;</asic:ASiCManifest>",
    b"<ASiCManifest xmlns='urn:other'/>",
    b"<asic:ASiCManifest xmlns:asic='http://uri.etsi.org/02918/v1.2.1#'/>",  # no SigReference
    b"\xff\xfe<\x00x\x00",  # not UTF-8
])
def test_a_malformed_manifest(good: bytes, sender: Identity, pins: set[str], manifest: bytes) -> None:
    assert refusal_of(_manifest_case(good, sender, manifest), pins).code == "exchange.bad_manifest"


def test_a_manifest_with_sha1_a_bad_digest_or_a_part_listed_twice(
    good: bytes, sender: Identity, pins: set[str]
) -> None:
    manifest = build_manifest(parts_of(good))
    sha1 = manifest.replace(b"xmlenc#sha256", b"xmldsig#sha1")
    not_base64 = manifest.replace(b"</ds:DigestValue>", b"!!</ds:DigestValue>", 1)
    reference = manifest[manifest.index(b"  <asic:DataObjectReference"):manifest.index(b"</asic:DataObjectReference>")]
    twice = manifest.replace(b"</asic:ASiCManifest>", reference + b"</asic:DataObjectReference>\n</asic:ASiCManifest>")
    meta = manifest.replace(b'URI="letter.pdf"', b'URI="META-INF/ASiCManifest.xml"')
    for bad in (sha1, not_base64, twice, meta):
        assert refusal_of(_manifest_case(good, sender, bad), pins).code == "exchange.bad_manifest"


def test_no_manifest(good: bytes, pins: set[str]) -> None:
    entries = [(n, d) for n, d in entries_of(good).items() if n != MANIFEST_NAME]
    assert refusal_of(raw_zip(entries), pins).code == "exchange.bad_manifest"


# 5. The data objects
def test_a_listed_part_that_is_missing(good: bytes, sender: Identity, pins: set[str]) -> None:
    parts = parts_of(good)
    data = container(sender.sealing_key, parts[:-1], manifest=build_manifest(parts))
    assert refusal_of(data, pins).code == "exchange.missing_part"


def test_a_part_that_is_not_listed(good: bytes, sender: Identity, pins: set[str]) -> None:
    data = container(sender.sealing_key, parts_of(good), extra=[("enclosures/02-extra.pdf", PDF)])
    assert refusal_of(data, pins).code == "exchange.unlisted_part"


def test_a_swapped_part(good: bytes, pins: set[str]) -> None:
    entries = entries_of(good)
    entries["letter.pdf"] = PDF.replace(b"Catalog", b"Catalof")  # the signed manifest still has the old digest
    refusal = refusal_of(raw_zip(list(entries.items())), pins)
    assert refusal.code == "exchange.digest_mismatch" and "letter.pdf" in refusal.message_en


def test_meta_inf_files_besides_ours_are_ignored(good: bytes, sender: Identity, pins: set[str]) -> None:
    data = container(sender.sealing_key, parts_of(good), extra=[("META-INF/manifest.xml", b"<manifest/>")])
    assert open_envelope(data, trusted=pins, **LIMITS).envelope.kind == "letter"


# 6. The signature
def test_a_manifest_changed_after_signing(good: bytes, pins: set[str]) -> None:
    entries = entries_of(good)
    entries["letter.pdf"] = PDF + b"changed"
    parts = [Part(n, "application/pdf" if n.endswith(".pdf") else "application/json", d)
             for n, d in entries.items() if n != "mimetype" and not n.startswith("META-INF/")]
    entries[MANIFEST_NAME] = build_manifest(parts)  # digests right again, signature over the old manifest
    refusal = refusal_of(raw_zip(list(entries.items())), pins)
    assert refusal.code == "exchange.bad_signature" and refusal.http_status == 403


@pytest.mark.parametrize("signature", [b"", b"garbage", b"\x30\x03\x02\x01\x00"])
def test_a_broken_or_empty_signature(good: bytes, sender: Identity, pins: set[str], signature: bytes) -> None:
    data = container(sender.sealing_key, parts_of(good), signature=signature)
    assert refusal_of(data, pins).code == "exchange.bad_signature"


def test_no_signature_file(good: bytes, pins: set[str]) -> None:
    entries = [(n, d) for n, d in entries_of(good).items() if n != SIGNATURE_NAME]
    assert refusal_of(raw_zip(entries), pins).code == "exchange.bad_signature"


def test_an_attached_signature_is_not_accepted(good: bytes, sender: Identity, pins: set[str]) -> None:
    from saraban.exchange.cades import _run

    def attached(manifest: bytes) -> bytes:
        signed = _run(sender.sealing_key.signer().async_sign_general_data(
            manifest, "sha256", detached=False, use_cades=True))
        return bytes(signed.dump())

    data = container(sender.sealing_key, parts_of(good), signature=attached)
    assert refusal_of(data, pins).code == "exchange.bad_signature"


# 7. Who signed
def test_a_signature_by_another_key(good: bytes, stranger: Identity, pins: set[str]) -> None:
    data = container(stranger.sealing_key, parts_of(good))  # valid, but not by the pinned key
    refusal = refusal_of(data, pins)
    assert refusal.code == "exchange.unknown_signer" and stranger.fingerprint in refusal.message_en
    assert refusal_of(good, lambda cert: False).code == "exchange.unknown_signer"


def test_an_expired_signer(to: Address) -> None:
    old = make_identity("old.example", now=dt.datetime(2010, 1, 1, tzinfo=dt.UTC))
    data = pack(letter(old.address("opm-ops"), to), old.sealing_key)
    assert refusal_of(data, {old.fingerprint}).code == "exchange.signer_not_valid"


def test_a_signer_who_claims_another_deployment(good: bytes, sender: Identity) -> None:
    assert refusal_of(good, {sender.fingerprint: "someone-else"}).code == "exchange.sender_mismatch"


# 8. envelope.json
@pytest.mark.parametrize("document", [[], "text", 42, None, {"format": "saraban-exchange/1"}])
def test_envelope_json_that_is_not_a_full_object(sender: Identity, pins: set[str], document: Any) -> None:
    assert refusal_of(with_envelope_json(sender, document), pins).code == "exchange.bad_metadata"


@pytest.mark.parametrize("raw", [b"{", b"\xff\xfe", b'{"a": 1, "a": 2}', b'{"a": NaN}', b"[" * 100_000])
def test_envelope_json_that_is_not_json(sender: Identity, pins: set[str], raw: bytes) -> None:
    assert refusal_of(with_envelope_json(sender, None, raw=raw), pins).code == "exchange.bad_metadata"


def test_no_envelope_json(good: bytes, sender: Identity, pins: set[str]) -> None:
    data = container(sender.sealing_key, [p for p in parts_of(good) if p.name != "envelope.json"])
    assert refusal_of(data, pins).code == "exchange.bad_metadata"


@pytest.mark.parametrize("changes", [
    {"format": "saraban-exchange/9"},
    {"message_id": "not-a-uuid"},
    {"message_id": 12},
    {"created_at": "2026-11-26T10:00:00"},  # no offset
    {"created_at": "yesterday"},
    {"kind": "memo"},
    {"sender": "opm"},
    {"sender": {"organisation": "opm-ops"}},
    {"recipient": None},
    {"recipient": {"deployment": "", "organisation": "x"}},
    {"metadata": []},
    {"metadata": letter_metadata(subject="")},
    {"metadata": letter_metadata(urgency="asap")},
    {"metadata": letter_metadata(secrecy="top")},
    {"metadata": letter_metadata(date="26/11/2569")},
    {"metadata": letter_metadata(main_part="enclosures/01-agenda.pdf", enclosures=[])},
    {"metadata": letter_metadata(main_part="nothing.pdf")},
    {"metadata": letter_metadata(enclosures=[])},  # enclosures/01-agenda.pdf is not accounted for
    {"metadata": letter_metadata(enclosures=[{"title": 1, "part": None}])},
    {"metadata": letter_metadata(references="none")},
    {"metadata": letter_metadata(copies=[{"name": ["x"]}])},
    {"metadata": letter_metadata(copy="yes")},
    {"kind": "receipt", "metadata": {"in_reply_to": "x", "status": "delivered"}},
    {"kind": "receipt", "metadata": {"in_reply_to": "6f1c1c1e-0000-4000-8000-000000000000", "status": "read"}},
    {"kind": "receipt", "metadata": {"in_reply_to": "6f1c1c1e-0000-4000-8000-000000000000",
                                     "status": "registered", "receive_number": "12"}},  # no date
    {"kind": "rejection", "metadata": {"in_reply_to": None, "code": "", "message_th": "x", "message_en": "x"}},
])
def test_envelope_json_fields(sender: Identity, to: Address, pins: set[str], changes: dict[str, Any]) -> None:
    document = envelope_document(sender, to, **changes)
    assert refusal_of(with_envelope_json(sender, document), pins).code == "exchange.bad_metadata"


def test_a_receipt_with_parts_is_refused(sender: Identity, to: Address, pins: set[str]) -> None:
    document = envelope_document(sender, to, kind="receipt", metadata={
        "in_reply_to": "6f1c1c1e-0000-4000-8000-000000000000", "status": "delivered"})
    assert refusal_of(with_envelope_json(sender, document), pins).code == "exchange.bad_metadata"


def test_unknown_fields_are_kept_for_later_versions(sender: Identity, to: Address, pins: set[str]) -> None:
    document = envelope_document(sender, to, metadata=letter_metadata(reply_due="2026-12-15"), extension=True)
    opened = open_envelope(with_envelope_json(sender, document), trusted=pins, **LIMITS)
    assert opened.envelope.metadata["reply_due"] == "2026-12-15"


def test_the_checks_run_in_order(good: bytes, stranger: Identity, pins: set[str]) -> None:
    """A message wrong in several ways is refused for the first check it fails."""
    entries = entries_of(good)
    entries["letter.pdf"] = b"swapped"
    tampered = raw_zip(list(entries.items()))
    assert refusal_of(tampered, pins, max_bytes=100).code == "exchange.too_large"
    assert refusal_of(tampered, pins, max_parts=2).code == "exchange.too_many_parts"
    assert refusal_of(tampered, {stranger.fingerprint}).code == "exchange.digest_mismatch"  # before the signer


def test_every_refusal_code_of_open_envelope_was_seen(request: pytest.FixtureRequest) -> None:
    """Runs after the tests above (pytest keeps the file's order): each code open_envelope raises is tested."""
    if request.config.option.keyword:
        pytest.skip("only some tests of the module ran")
    # Raised by the receiver after open_envelope, or by its HTTP binding: tests/exchange/test_receiving.py
    # and test_faults.py see each of them.
    receiver_only = {"exchange.unknown_recipient", "exchange.secrecy_refused", "exchange.bad_directory",
                     "exchange.wrong_deployment", "exchange.unknown_message", "exchange.unsupported_kind",
                     "exchange.unsupported_media_type", "exchange.bad_batch"}
    assert set(REFUSALS) - receiver_only - RAISED == set()


def test_refusals_have_a_thai_and_english_message_and_a_status() -> None:
    for code, text in REFUSALS.items():
        assert code.startswith("exchange.") and text.http_status in (400, 403, 413, 415)
        assert any("\u0e00" <= c <= "\u0e7f" for c in text.message_th) and text.message_en.isascii()


def test_digests_in_the_manifest_are_base64_sha256(good: bytes) -> None:
    manifest = entries_of(good)[MANIFEST_NAME].decode()
    expected = base64.b64encode(hashlib.sha256(PDF).digest()).decode()
    assert 'URI="letter.pdf" MimeType="application/pdf">\n    <ds:DigestMethod' in manifest
    assert f"<ds:DigestValue>{expected}</ds:DigestValue>" in manifest
    signature = entries_of(good)[SIGNATURE_NAME]
    assert signature[:1] == b"\x30"  # DER
    assert sign_detached(b"x", make_identity("k").sealing_key, signing_time=dt.datetime.now(dt.UTC))[:1] == b"\x30"
