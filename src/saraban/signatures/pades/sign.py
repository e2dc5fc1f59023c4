"""PAdES signing (B-B, B-T, B-LT, B-LTA) with pyHanko as a library, as incremental updates.

``sign_pdf`` signs one PDF. ``PadesSigner`` keeps what a batch shares (the loaded key, the TSA client,
the validation context whose fetched OCSP responses and CRLs are reused): a batch of letters is signed
with one password or PIN entry, and much faster than one call at a time.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from asn1crypto import x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.general import SigningError
from pyhanko_certvalidator import ValidationContext

from saraban.core.errors import SarabanError

from .appearance import SignatureAppearance
from .keys import KeySource

Level = Literal["B-B", "B-T", "B-LT", "B-LTA"]
LEVELS: tuple[str, ...] = get_args(Level)
FIELD_PREFIX = "Signature"


class SigningFailed(SarabanError):
    """The PDF could not be signed (bad input, TSA or revocation service unreachable, …)."""


def _failed(en: str, th: str = "ลงนามเอกสารไม่สำเร็จ") -> SigningFailed:
    return SigningFailed(code="signing.failed", message_th=th, message_en=en)


@dataclass
class PadesSigner:
    """A signing session: one key, one level, one TSA; call ``sign`` for each PDF of a batch."""

    key: KeySource
    level: Level = "B-B"
    tsa_url: str | None = None
    trust_roots: Sequence[x509.Certificate] = ()
    allow_fetching: bool = True
    tsa_timeout: int = 10
    _timestamper: timestamps.TimeStamper | None = field(default=None, init=False)
    _vc: ValidationContext | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise _failed(f"Unknown PAdES level {self.level!r}; use one of {', '.join(LEVELS)}",
                          f"ไม่รู้จักระดับลายมือชื่อ {self.level}")
        if self.level != "B-B":
            if not self.tsa_url:
                raise _failed(f"PAdES {self.level} needs a time-stamping authority (--tsa URL)",
                              f"ระดับ {self.level} ต้องระบุหน่วยประทับรับรองเวลา (TSA)")
            self._timestamper = timestamps.HTTPTimeStamper(self.tsa_url, timeout=self.tsa_timeout)
        if self.level in ("B-LT", "B-LTA"):
            self._vc = ValidationContext(
                trust_roots=list(self.trust_roots), allow_fetching=self.allow_fetching,
                other_certs=list(_chain_of(self.key.signer())),
            )

    def sign(
        self,
        pdf: bytes,
        *,
        field_name: str | None = None,
        visible: SignatureAppearance | None = None,
        certify: bool = False,
        reason: str | None = None,
        location: str | None = None,
    ) -> bytes:
        """Sign ``pdf`` as an incremental update and return the new PDF (``SigningFailed`` otherwise)."""
        return asyncio.run(self.async_sign(
            pdf, field_name=field_name, visible=visible, certify=certify, reason=reason, location=location
        ))

    async def async_sign(
        self,
        pdf: bytes,
        *,
        field_name: str | None = None,
        visible: SignatureAppearance | None = None,
        certify: bool = False,
        reason: str | None = None,
        location: str | None = None,
    ) -> bytes:
        """``sign`` inside a running event loop (a batch shares one loop and its HTTP sessions)."""
        try:
            writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        except Exception as exc:
            raise _failed(f"The input is not a readable PDF: {exc}", "ไฟล์ที่นำมาลงนามไม่ใช่ PDF ที่อ่านได้") from None
        if writer.prev.encrypted:
            raise _failed("Encrypted PDFs cannot be signed here", "ไม่สามารถลงนามไฟล์ PDF ที่เข้ารหัสไว้")
        name = field_name or next_field_name(writer.prev)
        meta = signers.PdfSignatureMetadata(
            field_name=name,
            subfilter=fields.SigSeedSubFilter.PADES,
            md_algorithm="sha256",
            reason=reason,
            location=location,
            certify=certify,
            embed_validation_info=self.level in ("B-LT", "B-LTA"),
            use_pades_lta=self.level == "B-LTA",
            validation_context=self._vc,
        )
        pdf_signer = signers.PdfSigner(
            meta,
            self.key.signer(),
            timestamper=self._timestamper,
            stamp_style=visible.stamp_style() if visible else None,
            new_field_spec=visible.field_spec(name) if visible else None,
        )
        params: dict[str, Any] = {"appearance_text_params": visible.text_params()} if visible else {}
        reserve = self._bytes_reserved()
        try:
            try:
                out = await pdf_signer.async_sign_pdf(writer, bytes_reserved=reserve, **params)
            except SigningError as exc:  # too little room reserved: let pyHanko estimate
                if "reserved" not in str(exc).lower() and "too small" not in str(exc).lower():
                    raise
                writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
                out = await pdf_signer.async_sign_pdf(writer, **params)
        except SarabanError:
            raise
        except Exception as exc:
            raise _failed(f"pyHanko could not sign: {type(exc).__name__}: {exc}") from None
        assert isinstance(out, io.BytesIO)
        return out.getvalue()

    def sign_many(self, pdfs: Iterable[bytes], **kwargs: Any) -> list[bytes]:
        """Sign each PDF of a batch in one event loop (one authorisation, shared HTTP sessions)."""

        async def run() -> list[bytes]:
            return [await self.async_sign(pdf, **kwargs) for pdf in pdfs]

        return asyncio.run(run())

    def _bytes_reserved(self) -> int:
        """Room for the CMS: the certificates, the signature and (when stamped) a timestamp token."""
        signer = self.key.signer()
        certs = sum(len(c.dump()) for c in _chain_of(signer))
        room = 4096 + 2 * certs
        if self._timestamper is not None:
            room += 8192
        return room


def _chain_of(signer: signers.Signer) -> list[x509.Certificate]:
    certs: list[x509.Certificate] = []
    if signer.signing_cert is not None:
        certs.append(signer.signing_cert)
    registry: Any = signer.cert_registry
    certs.extend(registry)
    return certs


def next_field_name(reader: PdfFileReader) -> str:
    """The first ``SignatureN`` field name not yet used in the document."""
    try:
        used = {name for name, _value, _ref in fields.enumerate_sig_fields(reader)}
    except Exception:
        used = set()
    n = 1
    while f"{FIELD_PREFIX}{n}" in used:
        n += 1
    return f"{FIELD_PREFIX}{n}"


def sign_pdf(
    pdf: bytes,
    key: KeySource,
    *,
    level: Level = "B-B",
    tsa_url: str | None = None,
    trust_roots: Sequence[x509.Certificate] = (),
    field_name: str | None = None,
    visible: SignatureAppearance | None = None,
    certify: bool = False,
    reason: str | None = None,
    allow_fetching: bool = True,
) -> bytes:
    """Sign ``pdf`` with ``key`` at PAdES ``level`` and return the signed PDF (an incremental update).

    ``tsa_url`` is needed from B-T up; ``trust_roots`` (and fetching OCSP/CRL from the certificate's
    URLs) from B-LT up, to collect the revocation data embedded in the DSS. ``visible`` draws the stamp;
    ``certify`` makes this a certification (DocMDP, form filling allowed) signature.
    """
    session = PadesSigner(key, level=level, tsa_url=tsa_url, trust_roots=trust_roots, allow_fetching=allow_fetching)
    return session.sign(pdf, field_name=field_name, visible=visible, certify=certify, reason=reason)
