"""A fast RFC 3161 time-stamping authority for the benchmarks, on 127.0.0.1 only.

certomancer's Animator builds each token correctly but slowly for a benchmark: it re-parses the TSA's
private key for every request (about 40 ms for RSA-2048) and builds every ASN.1 structure afresh, and
Werkzeug's development server closes the connection after each request. This responder answers the
same RFC 3161 requests with tokens of the same shape (SignedData v3 over a TSTInfo; signed attributes
content-type, signing-time, signing-certificate and message-digest; the TSA certificate embedded),
signed by the test PKI's TSA key with its certificate, over HTTP/1.1 with keep-alive. The parts that
never change (the signer identifier, the signing-certificate attribute, the certificates) are encoded
once; everything that depends on the request or the time (the TSTInfo with the caller's message imprint
and nonce, a fresh serial number, the signing time and digest, the RSA signature) is made per request.
The tokens validate with pyHanko like the Animator's.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from asn1crypto import algos, cms, core, keys, tsp, x509
from certomancer.registry import PKIArchitecture, ServiceLabel
from certomancer.services import choose_signed_digest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

POLICY = "1.3.6.1.4.1.4146.2.3"  # the policy OID certomancer's TSA uses


def _frozen(value: Any) -> Any:
    """The same value re-read from its DER: asn1crypto then serialises it without redoing the work."""
    return type(value).load(value.dump())


class FastTimeStamper:
    """Builds RFC 3161 responses with a key loaded once (``response(request_der) -> response_der``)."""

    def __init__(self, tsa_cert: x509.Certificate, tsa_key: keys.PrivateKeyInfo,
                 extra_certs: list[x509.Certificate] | None = None) -> None:
        """``tsa_cert``/``tsa_key``: the TSA's certificate and private key (RSA, as in the test PKI)."""
        key = serialization.load_der_private_key(tsa_key.dump(), password=None)
        if not isinstance(key, RSAPrivateKey):
            raise ValueError("the benchmark TSA expects an RSA key")
        self._key = key
        self._cert = tsa_cert
        self._sig_algo = _frozen(choose_signed_digest("sha256", tsa_cert.public_key))
        if self._sig_algo.signature_algo != "rsassa_pkcs1v15":
            raise ValueError("the benchmark TSA signs with RSA PKCS#1 v1.5")
        self._digest_algo = _frozen(algos.DigestAlgorithm({"algorithm": "sha256"}))
        self._tsa_name = _frozen(x509.GeneralName(name="directory_name", value=tsa_cert.subject))
        self._policy = tsp.ObjectIdentifier(POLICY)
        self._content_type_attr = _frozen(cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}))
        ess = tsp.SigningCertificate({"certs": [tsp.ESSCertID({"cert_hash": hashlib.sha1(tsa_cert.dump()).digest()})]})
        self._signing_cert_attr = _frozen(cms.CMSAttribute({"type": "signing_certificate", "values": [ess]}))
        self._sid = _frozen(cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber(
            {"issuer": tsa_cert.issuer, "serial_number": tsa_cert.serial_number})}))
        self._certs = _frozen(cms.CertificateSet(
            [cms.CertificateChoices(name="certificate", value=c) for c in [tsa_cert, *(extra_certs or [])]]))
        self._granted = _frozen(tsp.PKIStatusInfo({"status": "granted"}))

    def response(self, request_der: bytes) -> bytes:
        """The DER ``TimeStampResp`` for the DER ``TimeStampReq`` (``ValueError`` when unreadable)."""
        req = tsp.TimeStampReq.load(request_der)
        imprint = req["message_imprint"]
        _ = imprint["hashed_message"].native  # parse now: a malformed request is refused here
        now = datetime.now(tz=UTC)
        tst_fields: dict[str, Any] = {
            "version": "v1",
            "policy": self._policy,
            "message_imprint": _frozen(imprint),
            "serial_number": int.from_bytes(b"\x01" + os.urandom(7), "big"),
            "gen_time": now,
            "tsa": self._tsa_name,
        }
        if isinstance(req["nonce"], core.Integer):
            tst_fields["nonce"] = req["nonce"].native
        tst_info_der = tsp.TSTInfo(tst_fields).dump()
        signed_attrs = cms.CMSAttributes([
            self._content_type_attr,
            cms.CMSAttribute({"type": "signing_time", "values": [cms.Time({"utc_time": core.UTCTime(now)})]}),
            self._signing_cert_attr,
            cms.CMSAttribute({"type": "message_digest", "values": [hashlib.sha256(tst_info_der).digest()]}),
        ])
        signed_attrs = _frozen(signed_attrs)
        signature = self._key.sign(signed_attrs.dump(), PKCS1v15(), hashes.SHA256())
        signer_info = cms.SignerInfo({
            "version": "v1",
            "sid": self._sid,
            "digest_algorithm": self._digest_algo,
            "signature_algorithm": self._sig_algo,
            "signed_attrs": signed_attrs,
            "signature": signature,
        })
        signed_data = cms.SignedData({
            "version": "v3",
            "digest_algorithms": [self._digest_algo],
            "encap_content_info": {"content_type": "tst_info", "content": cms.ParsableOctetString(tst_info_der)},
            "certificates": self._certs,
            "signer_infos": [signer_info],
        })
        token = cms.ContentInfo({"content_type": "signed_data", "content": signed_data})
        return bytes(tsp.TimeStampResp({"status": self._granted, "time_stamp_token": token}).dump())

    @classmethod
    def for_arch(cls, arch: PKIArchitecture, label: str = "tsa") -> FastTimeStamper:
        """The TSA ``label`` of a certomancer architecture (its configured key and certificate)."""
        info = arch.service_registry.get_tsa_info(ServiceLabel(label))
        cert = arch.get_cert(info.signing_cert)
        extra = [arch.get_cert(lbl) for lbl in info.certs_to_embed]
        return cls(cert, arch.key_set.get_private_key(info.signing_key), extra)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a batch reuses one connection
    # Headers and body go out as two writes: with Nagle's algorithm the body waits for the client's
    # delayed ACK (about 40 ms per request on Linux).
    disable_nagle_algorithm = True
    stamper: FastTimeStamper
    delay = 0.0  # seconds each answer waits, standing in for a TSA across the Internet

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if self.delay:
            time.sleep(self.delay)
        try:
            answer, status, mime = self.stamper.response(body), 200, "application/timestamp-reply"
        except Exception:
            answer, status, mime = b"bad time-stamp request", 400, "text/plain"
        self.send_response(status)
        self.send_header("Content-Type", mime)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class FastTsaServer:
    """The responder served on 127.0.0.1 and a free port; ``url`` is the TSA URL, ``stop()`` ends it."""

    def __init__(self, stamper: FastTimeStamper, *, delay: float = 0.0) -> None:
        """Bind the loopback address and start serving from a daemon thread (each answer ``delay`` s late)."""
        handler = type("Handler", (_Handler,), {"stamper": stamper, "delay": delay})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}/tsa"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="bench-tsa")
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
