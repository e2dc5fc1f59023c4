"""Garbage in, a refusal out: ``open_envelope`` never raises anything but ``EnvelopeRefused``.

Seeded, so a failure is reproducible: random bytes, every truncation length, random byte flips in a
good container, random JSON in a properly signed envelope.json, and ZIPs of random entries.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from saraban.exchange.asic import MIMETYPE, Part
from saraban.exchange.envelope import Address, open_envelope, pack
from saraban.exchange.identity import Identity
from saraban.exchange.refusals import REFUSALS, EnvelopeRefused

from .helpers import LIMITS, PDF, container, letter, raw_zip


def outcome(data: bytes, pins: set[str]) -> str:
    """``ok`` or the refusal code; any other exception fails the test."""
    try:
        open_envelope(data, trusted=pins, **LIMITS)
    except EnvelopeRefused as refusal:
        assert refusal.code in REFUSALS
        assert refusal.message_th and refusal.message_en and len(refusal.message_en) < 600
        return refusal.code
    return "ok"


@pytest.fixture(scope="module")
def good(sender: Identity, to: Address) -> bytes:
    return pack(letter(sender.address("opm-ops"), to), sender.sealing_key)


def test_random_bytes(sender: Identity) -> None:
    rng = random.Random(1)
    seen = {outcome(rng.randbytes(rng.randrange(0, 5000)), {sender.fingerprint}) for _ in range(300)}
    seen |= {outcome(b"PK\x03\x04" + rng.randbytes(rng.randrange(0, 3000)), {sender.fingerprint}) for _ in range(300)}
    assert seen == {"exchange.not_zip"}


def test_every_truncation(good: bytes, sender: Identity) -> None:
    step = max(1, len(good) // 400)
    seen = {outcome(good[:length], {sender.fingerprint}) for length in range(0, len(good), step)}
    assert "ok" not in seen and seen <= {"exchange.not_zip"}


def test_random_byte_flips(good: bytes, sender: Identity) -> None:
    rng = random.Random(2)
    seen: dict[str, int] = {}
    for _ in range(600):
        data = bytearray(good)
        for _ in range(rng.randrange(1, 4)):
            data[rng.randrange(len(data))] ^= rng.randrange(1, 256)
        code = outcome(bytes(data), {sender.fingerprint})
        seen[code] = seen.get(code, 0) + 1
    # A flip in a header field no reader checks (a time stamp, say) may leave the message intact; a flip in
    # any byte the manifest or the signature covers never does.
    assert seen.get("ok", 0) < 30, seen
    assert len(seen) >= 3, seen


def _json_value(rng: random.Random, depth: int = 0) -> Any:
    choice = rng.randrange(9 if depth < 4 else 6)
    if choice == 0:
        return None
    if choice == 1:
        return rng.choice([True, False])
    if choice == 2:
        return rng.randrange(-(10**20), 10**20)
    if choice == 3:
        return rng.random() * 1e300
    if choice == 4:
        return "".join(rng.choice("aก0-:/._ \u0000\u202e") for _ in range(rng.randrange(0, 12)))
    if choice == 5:
        return rng.choice(["letter", "receipt", "rejection", "directory", "2026-11-26", "letter.pdf",
                           "6f1c1c1e-0000-4000-8000-000000000000", "2026-11-26T10:00:00+07:00", "normal"])
    if choice == 6:
        return [_json_value(rng, depth + 1) for _ in range(rng.randrange(0, 4))]
    keys = ["format", "message_id", "kind", "created_at", "sender", "recipient", "metadata", "deployment",
            "organisation", "number", "date", "subject", "urgency", "secrecy", "main_part", "enclosures",
            "references", "copies", "in_reply_to", "status", "title", "part", "name", "code"]
    return {rng.choice(keys): _json_value(rng, depth + 1) for _ in range(rng.randrange(0, 8))}


def test_random_envelope_json_that_is_properly_signed(sender: Identity, to: Address) -> None:
    rng = random.Random(3)
    base = json.loads(letter(sender.address("opm-ops"), to).envelope_json())
    parts = [Part("letter.pdf", "application/pdf", PDF), Part("enclosures/01-agenda.pdf", "application/pdf", PDF)]
    seen = set()
    for _ in range(150):
        document: Any = dict(base)
        if rng.random() < 0.3:
            document = _json_value(rng)
        else:  # a plausible envelope with one field replaced by something random
            field = rng.choice([*base, "metadata"])
            if field == "metadata" and rng.random() < 0.7:
                metadata = dict(base["metadata"])
                metadata[rng.choice([*metadata, "copy"])] = _json_value(rng)
                document["metadata"] = metadata
            else:
                document[field] = _json_value(rng)
        data = json.dumps(document).encode()
        seen.add(outcome(container(sender.sealing_key, [Part("envelope.json", "application/json", data), *parts]),
                         {sender.fingerprint}))
    assert "exchange.bad_metadata" in seen and seen <= {"ok", "exchange.bad_metadata"}, seen


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_zips_of_random_entries(sender: Identity) -> None:
    rng = random.Random(4)
    names = ["mimetype", "envelope.json", "letter.pdf", "META-INF/ASiCManifest.xml", "META-INF/signature001.p7s",
             "../x", "a/../../b", "META-INF/", "x/", "C:/x", "\\x", "enclosures/01-a.pdf"]
    seen = set()
    for _ in range(200):
        entries = [(rng.choice(names), rng.choice([MIMETYPE.encode(), b"", rng.randbytes(rng.randrange(0, 300)),
                                                   b"<asic:ASiCManifest xmlns:asic='http://uri.etsi.org/02918/v1.2.1#'>"
                                                   b"<asic:SigReference URI='META-INF/signature001.p7s'/>"
                                                   b"</asic:ASiCManifest>"]))
                   for _ in range(rng.randrange(0, 7))]
        seen.add(outcome(raw_zip(entries), {sender.fingerprint}))
    assert "ok" not in seen and len(seen) >= 3, seen


def test_a_signed_container_of_random_parts(sender: Identity) -> None:
    """Everything signed and consistent, but nothing a receiver could use: refused for its metadata."""
    rng = random.Random(5)
    for _ in range(30):
        parts = [Part(f"p{i}.bin", "application/octet-stream", rng.randbytes(rng.randrange(0, 500)))
                 for i in range(rng.randrange(0, 4))]
        assert outcome(container(sender.sealing_key, parts), {sender.fingerprint}) == "exchange.bad_metadata"
