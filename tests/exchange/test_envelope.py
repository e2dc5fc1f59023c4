"""The envelope round trip: what is packed is what is opened, and the answers (receipts, rejections)."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

import pytest

from saraban.exchange.asic import enclosure_part_name, is_valid_part_name
from saraban.exchange.envelope import Address, Envelope, Part, open_envelope, pack, peek_message_id
from saraban.exchange.identity import Identity
from saraban.exchange.refusals import EnvelopeRefused, refused
from saraban.exchange.replies import receipt, receipt_id, rejection

from .helpers import LIMITS, PDF, ca_issued_seal, entries_of, letter


def test_a_letter_opens_as_it_was_packed(sender: Identity, to: Address) -> None:
    sent = letter(sender.address("opm-ops"), to)
    data = pack(sent, sender.sealing_key)
    opened = open_envelope(data, trusted={sender.fingerprint}, **LIMITS)
    assert opened.envelope == sent
    assert opened.fingerprint == sender.fingerprint
    assert opened.certificate.dump() == sender.certificate.dump()
    assert opened.envelope.part("letter.pdf").data == PDF  # the PDF exactly as signed
    assert opened.envelope.metadata["enclosures"][0]["title"] == "กำหนดการประชุม"


def test_the_container_layout_is_asic_e(sender: Identity, to: Address) -> None:
    data = pack(letter(sender.address("opm-ops"), to), sender.sealing_key)
    assert data[30:38] == b"mimetype" and data[38:69] == b"application/vnd.etsi.asic-e+zip"  # first, stored
    assert list(entries_of(data)) == ["mimetype", "envelope.json", "letter.pdf", "enclosures/01-agenda.pdf",
                                      "META-INF/ASiCManifest.xml", "META-INF/signature001.p7s"]


def test_pins_may_be_a_predicate_fingerprints_in_any_case_or_a_map_to_the_deployment(
    sender: Identity, to: Address
) -> None:
    data = pack(letter(sender.address("opm-ops"), to), sender.sealing_key)
    colons = ":".join(sender.fingerprint[i:i + 2] for i in range(0, 64, 2)).upper()
    assert open_envelope(data, trusted={colons}, **LIMITS).fingerprint == sender.fingerprint
    assert open_envelope(data, trusted=lambda cert: cert.dump() == sender.certificate.dump(), **LIMITS)
    assert open_envelope(data, trusted={sender.fingerprint: sender.deployment_id}, **LIMITS)
    with pytest.raises(EnvelopeRefused) as refusal:
        open_envelope(data, trusted={sender.fingerprint: "another-deployment"}, **LIMITS)
    assert refusal.value.code == "exchange.sender_mismatch" and refusal.value.http_status == 403


def test_created_at_is_kept_with_its_offset_and_never_checked_against_the_clock(
    sender: Identity, to: Address
) -> None:
    skewed = dt.datetime.now(dt.timezone(dt.timedelta(hours=7))) + dt.timedelta(minutes=15)  # 15 min ahead
    sent = Envelope(**{**letter(sender.address("opm-ops"), to).__dict__, "created_at": skewed})
    opened = open_envelope(pack(sent, sender.sealing_key), trusted={sender.fingerprint}, **LIMITS)
    assert opened.envelope.created_at == skewed and opened.envelope.created_at.utcoffset() == dt.timedelta(hours=7)


def test_receipts_answer_the_letter_from_its_recipient_with_a_stable_id(sender: Identity, to: Address) -> None:
    sent = letter(sender.address("opm-ops"), to)
    registered = receipt(sent, "registered", receive_number="1234", registered_on=dt.date(2026, 11, 27))
    assert registered.sender == to and registered.recipient == sent.sender
    assert registered.message_id == receipt_id(sent.message_id, "registered")
    assert receipt(sent, "registered", receive_number="1234", registered_on=dt.date(2026, 11, 27)).message_id \
        == registered.message_id  # made again after a crash: the same message
    assert receipt(sent, "delivered").message_id != registered.message_id
    opened = open_envelope(pack(registered, sender.sealing_key), trusted={sender.fingerprint}, **LIMITS).envelope
    assert opened.metadata == {"in_reply_to": str(sent.message_id), "status": "registered",
                               "receive_number": "1234", "registered_on": "2026-11-27"}
    returned = receipt(sent, "returned", reason="ส่งผิดหน่วยงาน")
    assert open_envelope(pack(returned, sender.sealing_key), trusted={sender.fingerprint},
                         **LIMITS).envelope.metadata["reason"] == "ส่งผิดหน่วยงาน"
    with pytest.raises(ValueError):
        receipt(sent, "registered")  # no เลขรับ
    with pytest.raises(ValueError):
        receipt(sent, "returned")  # no reason


def test_a_rejection_carries_the_refusal_code_and_both_messages(sender: Identity, to: Address) -> None:
    message_id = uuid.uuid4()
    answer = rejection(refused("exchange.digest_mismatch", "'letter.pdf'"), sender=Address(sender.deployment_id),
                       recipient=to, in_reply_to=message_id)
    opened = open_envelope(pack(answer, sender.sealing_key), trusted={sender.fingerprint}, **LIMITS).envelope
    assert opened.kind == "rejection" and opened.sender.organisation == ""
    assert opened.metadata["code"] == "exchange.digest_mismatch"
    assert opened.metadata["in_reply_to"] == str(message_id)
    assert "SHA-256" in opened.metadata["message_en"] and "SHA-256" in opened.metadata["message_th"]
    unreadable = rejection(refused("exchange.not_zip"), sender=Address(sender.deployment_id), recipient=None,
                           in_reply_to=None)
    assert open_envelope(pack(unreadable, sender.sealing_key), trusted={sender.fingerprint},
                         **LIMITS).envelope.metadata["in_reply_to"] is None


def test_the_message_id_can_be_peeked_for_a_rejection_and_garbage_gives_none(sender: Identity, to: Address) -> None:
    sent = letter(sender.address("opm-ops"), to)
    assert peek_message_id(pack(sent, sender.sealing_key), max_bytes=10**7) == sent.message_id
    assert peek_message_id(b"garbage", max_bytes=10**7) is None


@pytest.mark.parametrize("change, problem", [
    ({"created_at": dt.datetime(2026, 11, 26, 10, 0)}, "aware"),
    ({"parts": (Part("envelope.json", "application/json", b"{}"),)}, "envelope.json"),
    ({"parts": (Part("../letter.pdf", "application/pdf", PDF),)}, "part name"),
    ({"parts": (Part("letter.pdf", "application pdf", PDF),)}, "media type"),
    ({"metadata": {"subject": "no number"}}, "metadata"),
    ({"recipient": None}, "recipient"),
    ({"kind": "memo"}, "kind"),
])
def test_pack_refuses_an_envelope_the_receiver_would_refuse(
    sender: Identity, to: Address, change: dict[str, object], problem: str
) -> None:
    good = letter(sender.address("opm-ops"), to)
    with pytest.raises(ValueError, match=problem):
        pack(Envelope(**{**good.__dict__, **change}), sender.sealing_key)


def test_enclosure_names_are_safe_ascii_and_numbered() -> None:
    assert enclosure_part_name(1, "Agenda (final).PDF") == "enclosures/01-Agenda-final.pdf"
    assert enclosure_part_name(2, "คำสั่ง 12.pdf") == "enclosures/02-12.pdf"
    assert enclosure_part_name(3, "แผนที่.pdf") == "enclosures/03-enclosure.pdf"
    assert enclosure_part_name(12, "../../etc/passwd") == "enclosures/12-passwd"
    assert enclosure_part_name(4, "a.tar.gz") == "enclosures/04-a.tar.gz"
    for name in ("enclosures/01-Agenda-final.pdf", "enclosures/12-passwd", "letter.pdf"):
        assert is_valid_part_name(name)
    for name in ("../x", "/x", "a//b", "META-INF/x", "mimetype", "a\\b", "ก.pdf", ".hidden"):
        assert not is_valid_part_name(name)


def test_an_organisation_seal_issued_by_a_ca_signs_when_its_certificate_is_pinned(to: Address) -> None:
    seal, ca_der = ca_issued_seal()
    data = pack(letter(Address("dep-a", "opm-ops"), to), seal)
    fingerprint = hashlib.sha256(seal.certificate.dump()).hexdigest()
    opened = open_envelope(data, trusted={fingerprint}, **LIMITS)
    assert opened.fingerprint == fingerprint
    ca_fingerprint = hashlib.sha256(ca_der).hexdigest()
    with pytest.raises(EnvelopeRefused) as refusal:  # pins name certificates, not their issuers
        open_envelope(data, trusted={ca_fingerprint}, **LIMITS)
    assert refusal.value.code == "exchange.unknown_signer"


@pytest.mark.parametrize(("usage", "usable"), [(None, True), ("digital_signature", True),
                                               ("content_commitment", True), ("key_encipherment", False)])
def test_a_certificate_signs_unless_its_key_usage_forbids_it(to: Address, usage: str | None, usable: bool) -> None:
    """RFC 5280: no key usage extension allows any use; one without digitalSignature or nonRepudiation does not."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from saraban.signatures.pades.keys import KeyMaterial

    now, key = dt.datetime.now(dt.UTC), ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ตราประทับ")])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
               .serial_number(7).not_valid_before(now - dt.timedelta(days=1))
               .not_valid_after(now + dt.timedelta(days=9)))
    if usage:
        flags = dict.fromkeys(("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
                               "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only"), False)
        builder = builder.add_extension(x509.KeyUsage(**(flags | {usage: True})), critical=True)
    der = serialization.Encoding.DER
    certificate = builder.sign(key, hashes.SHA256()).public_bytes(der)
    seal = KeyMaterial(key.private_bytes(der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
                       certificate, ()).open()
    data = pack(letter(Address("dep-a", "opm-ops"), to), seal)
    pins = {hashlib.sha256(certificate).hexdigest()}
    if usable:
        assert open_envelope(data, trusted=pins, **LIMITS).envelope.kind == "letter"
    else:
        with pytest.raises(EnvelopeRefused) as refusal:
            open_envelope(data, trusted=pins, **LIMITS)
        assert refusal.value.code == "exchange.signer_not_valid"
