"""Saraban's test PKI on loopback: certomancer's Animator (OCSP, CRLs, TSAs) on 127.0.0.1 and a free port.

``TestPki.start()`` loads ``tests/pki/certomancer.yml`` with the URL prefix ``http://127.0.0.1:<port>``,
serves it from a thread (Werkzeug, loopback only) and writes the certificates and PKCS#12 files
(password "secret") of every entity into a folder. Nothing here reaches outside this machine.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asn1crypto import x509
from certomancer.integrations.animator import Animator, AnimatorArchStore
from certomancer.registry import CertomancerConfig, PKIArchitecture
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

PKI_DIR = Path(__file__).resolve().parents[1] / "pki"
CONFIG = PKI_DIR / "certomancer.yml"
PASSWORD = "secret"
TRUSTED_ARCH = "th-test"
UNTRUSTED_ARCH = "th-untrusted"
# Entities whose PKCS#12 files are written (label, architecture).
SIGNERS = {
    "signer": TRUSTED_ARCH,
    "signer-expired": TRUSTED_ARCH,
    "signer-revoked": TRUSTED_ARCH,
    "seal": TRUSTED_ARCH,
    "signer2": UNTRUSTED_ARCH,
}


class _QuietHandler(WSGIRequestHandler):
    """No access log lines on stderr."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class _Deferred:
    """A WSGI app that forwards to the Animator once it exists (the port must be known first)."""

    def __init__(self) -> None:
        self.app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.app(environ, start_response)


@dataclass
class TestPki:
    """A running test PKI: its URLs, its architectures and the files written for the tests."""

    __test__ = False  # not a pytest test class

    out_dir: Path
    port: int = 0
    archs: dict[str, PKIArchitecture] = field(default_factory=dict)
    _server: BaseWSGIServer | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The URL prefix of every service, e.g. ``http://127.0.0.1:41234``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def tsa_url(self) -> str:
        """The trusted test TSA."""
        return f"{self.url}/{TRUSTED_ARCH}/tsa/tsa"

    @property
    def untrusted_tsa_url(self) -> str:
        """The TSA under the untrusted second root."""
        return f"{self.url}/{UNTRUSTED_ARCH}/tsa/tsa2"

    def cert(self, label: str, arch: str = TRUSTED_ARCH) -> x509.Certificate:
        """The certificate of ``label``."""
        return self.archs[arch].get_cert(label)

    def path(self, name: str) -> Path:
        """A file written by ``start``: ``root.cert.pem``, ``signer.p12``, ``root2.cert.pem``…"""
        return self.out_dir / name

    def start(self) -> TestPki:
        """Bind 127.0.0.1 on a free port, build the PKI for that port, serve it and write its files."""
        deferred = _Deferred()
        self._server = make_server("127.0.0.1", 0, deferred, threaded=True, request_handler=_QuietHandler)
        self.port = self._server.server_port
        config = CertomancerConfig.from_file(str(CONFIG), external_url_prefix=self.url)
        self.archs = {name: config.get_pki_arch(name) for name in (TRUSTED_ARCH, UNTRUSTED_ARCH)}
        deferred.app = Animator(AnimatorArchStore(self.archs), with_web_ui=False)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="test-pki")
        self._thread.start()
        self._write_files()
        return self

    def stop(self) -> None:
        """Stop the Animator and wait for its thread."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _write_files(self) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for arch in self.archs.values():
            for _issuer, specs in arch.enumerate_certs_by_issuer():
                for spec in specs:
                    (self.out_dir / f"{spec.label}.cert.pem").write_bytes(_pem(arch.get_cert(spec.label)))
        trusted = self.archs[TRUSTED_ARCH]
        (self.out_dir / "roots.pem").write_bytes(_pem(trusted.get_cert("root")))
        for label, arch_name in SIGNERS.items():
            data = self.archs[arch_name].package_pkcs12(label, password=PASSWORD.encode())
            (self.out_dir / f"{label}.p12").write_bytes(data)
        (self.out_dir / "signer-unreachable.p12").write_bytes(self._unreachable_signer())

    def _unreachable_signer(self) -> bytes:
        """A signer under the intermediate whose OCSP responder and CRL sit on a closed port (127.0.0.1:9)."""
        import datetime as dt

        from cryptography import x509 as cx509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.serialization import pkcs12
        from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

        arch = self.archs[TRUSTED_ARCH]
        interm = cx509.load_der_x509_certificate(arch.get_cert("interm").dump())
        root = cx509.load_der_x509_certificate(arch.get_cert("root").dump())
        interm_key = serialization.load_pem_private_key((PKI_DIR / "keys" / "interm.key.pem").read_bytes(),
                                                        password=PASSWORD.encode())
        key = ec.generate_private_key(ec.SECP256R1())
        dead = "http://127.0.0.1:9"
        cert = (
            cx509.CertificateBuilder()
            .subject_name(cx509.Name([cx509.NameAttribute(NameOID.COUNTRY_NAME, "TH"),
                                      cx509.NameAttribute(NameOID.COMMON_NAME, "นายติดต่อไม่ได้ ทดสอบ")]))
            .issuer_name(interm.subject).public_key(key.public_key()).serial_number(cx509.random_serial_number())
            .not_valid_before(dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
            .not_valid_after(dt.datetime(2040, 1, 1, tzinfo=dt.UTC))
            .add_extension(cx509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
            .add_extension(cx509.AuthorityInformationAccess([cx509.AccessDescription(
                AuthorityInformationAccessOID.OCSP, cx509.UniformResourceIdentifier(f"{dead}/ocsp"))]), critical=False)
            .add_extension(cx509.CRLDistributionPoints([cx509.DistributionPoint(
                [cx509.UniformResourceIdentifier(f"{dead}/interm.crl")], None, None, None)]), critical=False)
            .add_extension(cx509.AuthorityKeyIdentifier.from_issuer_public_key(interm.public_key()),  # type: ignore[arg-type]
                           critical=False)
            .sign(interm_key, hashes.SHA256())  # type: ignore[arg-type]
        )
        return pkcs12.serialize_key_and_certificates(
            b"signer-unreachable", key, cert, [interm, root],
            serialization.BestAvailableEncryption(PASSWORD.encode()),
        )


def _pem(cert: x509.Certificate) -> bytes:
    from asn1crypto import pem

    return pem.armor("CERTIFICATE", cert.dump())
