"""Fixtures: the test PKI on loopback (certomancer's Animator), a SoftHSM2 token, and sample PDFs."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509
from cryptography.hazmat.primitives import serialization

from saraban.signatures.pades.keys import Pkcs11Key, Pkcs12Key
from saraban.signatures.trust import load_certificates

from .pki import PASSWORD, PKI_DIR, TestPki

SOFTHSM_LIB = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN_LABEL = "saraban-test"
TOKEN_PIN = "1234"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestPki]:
    """The running test PKI (127.0.0.1, a free port); stopped at the end of the session."""
    running = TestPki(tmp_path_factory.mktemp("pki")).start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def roots(pki: TestPki) -> list[x509.Certificate]:
    """The trusted test root only."""
    return load_certificates([pki.path("root.cert.pem")])


@pytest.fixture(scope="session")
def p12_key(pki: TestPki) -> Pkcs12Key:
    """The valid signer's PKCS#12 key."""
    return Pkcs12Key.from_file(pki.path("signer.p12"), PASSWORD)


def p12(pki: TestPki, label: str) -> Pkcs12Key:
    """The PKCS#12 key of ``label`` (signer-expired, signer-revoked, signer2, seal)."""
    return Pkcs12Key.from_file(pki.path(f"{label}.p12"), PASSWORD)


@pytest.fixture(scope="session")
def letter_pdf(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A one-page letter rendered from examples/letters/internal.json (no signature block mark)."""
    import json

    from saraban.regulation.content import parse_letter_json
    from saraban.rendering.letters import render_letter

    content = parse_letter_json(json.loads((REPO / "examples/letters/external.json").read_text("utf-8")))
    return render_letter(content)


def minimal_pdf(text: bytes = b"0 0 m 100 100 l S") -> bytes:
    """A one-page PDF written by hand, with a correct cross-reference table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text),
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


@pytest.fixture(scope="session")
def small_pdf() -> bytes:
    """A minimal one-page PDF (fast to sign)."""
    return minimal_pdf()


@pytest.fixture(scope="session")
def softhsm(pki: TestPki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A SoftHSM2 token in a temporary folder holding the signer's key and certificate (and the seal)."""
    if not Path(SOFTHSM_LIB).exists():
        pytest.skip("SoftHSM2 is not installed")
    import pkcs11
    from pkcs11 import Attribute, ObjectClass
    from pkcs11.util.rsa import decode_rsa_private_key
    from pkcs11.util.x509 import decode_x509_certificate

    home = tmp_path_factory.mktemp("softhsm")
    (home / "tokens").mkdir()
    conf = home / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {home / 'tokens'}\nobjectstore.backend = file\n")
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", TOKEN_LABEL, "--pin", TOKEN_PIN, "--so-pin", "5678"],
        check=True, capture_output=True,
    )
    lib = pkcs11.lib(SOFTHSM_LIB)
    token = lib.get_token(token_label=TOKEN_LABEL)
    with token.open(rw=True, user_pin=TOKEN_PIN) as session:
        for n, label in enumerate(("signer", "seal"), start=1):
            pem_key = (PKI_DIR / "keys" / f"{label}.key.pem").read_bytes()
            key = serialization.load_pem_private_key(pem_key, password=PASSWORD.encode())
            der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.NoEncryption())
            attrs = decode_rsa_private_key(der)
            attrs.update({Attribute.TOKEN: True, Attribute.LABEL: label, Attribute.ID: bytes([n]),
                          Attribute.SIGN: True, Attribute.SENSITIVE: True})
            session.create_object(attrs)
            cert_attrs = decode_x509_certificate(pki.cert(label).dump())
            cert_attrs.update({Attribute.TOKEN: True, Attribute.LABEL: label, Attribute.ID: bytes([n]),
                               Attribute.CLASS: ObjectClass.CERTIFICATE})
            session.create_object(cert_attrs)
    _ = asn1_keys  # (keys are converted with cryptography above)
    yield {"lib": SOFTHSM_LIB, "token_label": TOKEN_LABEL, "pin": TOKEN_PIN}
    if previous is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = previous


@pytest.fixture
def hsm_key(softhsm: dict[str, str], pki: TestPki) -> Iterator[Pkcs11Key]:
    """The signer's key on the SoftHSM2 token."""
    key = Pkcs11Key(softhsm["lib"], token_label=softhsm["token_label"], pin=softhsm["pin"], key_label="signer",
                    extra_certs=[pki.cert("interm")])
    yield key
    key.close()
