"""The demo's own small PKI: a root CA made at demo load, and a PKCS#12 certificate for each demo signer.

Nothing here is for production: the root key is made on this machine, kept in ``SARABAN_HOME/demo-pki``
and trusted only because the demo puts its certificate into ``SARABAN_HOME/trust`` (the folder of
locally added trust roots). Each PKCS#12 file is encrypted with the demo password, so a demo signer
signs with the password printed by ``saraban load_demo``. One signer's certificate expires within 30
days, so the expiry warnings and the "who can sign" view have something to show.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.conf import settings

ROOT_NAME = "Saraban Demo Root CA"
# Days each demo signer's certificate stays valid; the others get a year.
SHORT_LIVED = {"city.signer": 21}


@dataclass(frozen=True)
class DemoCa:
    """The demo root's key and certificate."""

    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate


def demo_pki_dir() -> Path:
    """Where the demo keeps its root key (never committed; made per installation)."""
    return Path(settings.SARABAN_HOME) / "demo-pki"


def demo_ca() -> DemoCa:
    """The demo root CA, made on first use and trusted through ``SARABAN_HOME/trust``."""
    folder = demo_pki_dir()
    key_file, cert_file = folder / "root-key.pem", folder / "root.pem"
    if key_file.exists() and cert_file.exists():
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        ca = DemoCa(key, x509.load_pem_x509_certificate(cert_file.read_bytes()))
    else:
        folder.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([
            x509.NameAttribute(NameOID.COUNTRY_NAME, "TH"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Saraban demo"),
            x509.NameAttribute(NameOID.COMMON_NAME, ROOT_NAME),
        ])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(ca=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        key_file.write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ))
        key_file.chmod(0o600)
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        ca = DemoCa(key, cert)
    trust_dir = Path(settings.SARABAN_HOME) / "trust"
    trust_dir.mkdir(parents=True, exist_ok=True)
    (trust_dir / "saraban-demo-root.pem").write_bytes(ca.certificate.public_bytes(serialization.Encoding.PEM))
    _publish_crl(ca, trust_dir / "crls")
    return ca


CRL_NAME = "saraban-demo-root.crl"


def crl_url() -> str:
    """Where the demo root's CRL is published: this deployment's ``/pki/`` (``web.views.pki``)."""
    return f"{settings.SARABAN_PUBLIC_URL}/pki/{CRL_NAME}"


def _publish_crl(ca: DemoCa, folder: Path) -> None:
    """A fresh CRL of the demo root (nothing revoked), kept where validation and signing find it at hand."""
    now = dt.datetime.now(dt.UTC)
    crl = (
        x509.CertificateRevocationListBuilder().issuer_name(ca.certificate.subject)
        .last_update(now - dt.timedelta(minutes=5)).next_update(now + dt.timedelta(days=365))
        .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{CRL_NAME}.part"
    partial.write_bytes(crl.public_bytes(serialization.Encoding.DER))
    partial.replace(folder / CRL_NAME)


def issue_pkcs12(ca: DemoCa, *, common_name: str, organisation: str, email: str, password: str,
                 days: int = 365) -> bytes:
    """A signing certificate for ``common_name`` under the demo root, as PKCS#12 encrypted with ``password``."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    subject = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "TH"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(ca.certificate.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(ca=False), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False)
        .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            [x509.UniformResourceIdentifier(crl_url())], None, None, None)]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.certificate.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        .sign(ca.key, hashes.SHA256())
    )
    encryption = serialization.BestAvailableEncryption(password.encode())
    return pkcs12.serialize_key_and_certificates(
        common_name.encode(), key, cert, [ca.certificate], encryption
    )


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca, content_commitment=not ca, key_encipherment=False, data_encipherment=False,
        key_agreement=False, key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False,
    )
