"""Signing methods behind one interface.

The workflow asks a ``SigningMethod`` to sign the rendered PDF of a letter once the signer has proved
who they are. The typed-name method of the 2021 amendment needs nothing more than that proof: the
system records the signer, the time and the digest of the PDF. The PKI method (PAdES)
returns a PDF that carries a cryptographic signature instead; both are recorded the same way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from django.contrib.auth import authenticate

from saraban.core import lockout
from saraban.core.errors import PermissionRefused
from saraban.directory.models import Person

from .models import SignatureMethod, SigningCertificate

if TYPE_CHECKING:
    from saraban.rendering.letters import SignatureRoom

    from .pades.appearance import SignatureAppearance
    from .pades.keys import KeySource
    from .pades.sign import PadesSigner


@dataclass(frozen=True)
class SignerProof:
    """What the signer typed to prove it is them, at the moment of signing (never stored, never shown).

    ``repr`` leaves the secret out, so a log line or an error report that prints the proof shows none.
    """

    password: str = field(repr=False)


class SigningMethod(Protocol):
    """A way of signing a rendered letter."""

    method: SignatureMethod
    # True when the signed PDF cannot change afterwards: the number and date are drawn before rendering.
    numbers_on_signing: bool

    def sign(
        self, pdf: bytes, signer: Person, proof: SignerProof, *, position: str = "", at: dt.datetime | None = None,
        room: SignatureRoom | None = None,
    ) -> bytes:
        """Check ``proof`` for ``signer`` and return the signed PDF; ``PermissionRefused`` otherwise.

        ``position`` and ``at`` are what the visible signature prints (the position signed as, the time);
        ``room`` is where the renderer left room for it (found in the PDF's text when not given).
        """
        ...


def reauthenticate(signer: Person, proof: SignerProof) -> None:
    """Refuse unless ``proof`` is the signer's current password (re-authentication before signing).

    The password is the one that signs in, so its failures count in the sign-in lockout of the
    signer's username (``saraban.core.lockout``; the web and the API sign through here): while that
    lock holds, signing is refused too, with the time to try again.
    """
    attempt = lockout.begin(None, signer.get_username())
    if isinstance(attempt, lockout.Locked):
        th, en = lockout.messages(attempt)
        raise PermissionRefused(code="signature.reauthentication_failed", message_th=th, message_en=en)
    if authenticate(username=signer.get_username(), password=proof.password) is None:
        attempt.failed()
        raise PermissionRefused(
            code="signature.reauthentication_failed",
            message_th="รหัสผ่านไม่ถูกต้อง ไม่สามารถลงนามได้",
            message_en="The password is wrong; the letter was not signed",
        )
    attempt.succeeded()


class TypedNameSignature:
    """ลงนามโดยพิมพ์ชื่อ: the signer re-authenticates; the PDF is kept as rendered, with the mark."""

    method = SignatureMethod.TYPED_NAME
    numbers_on_signing = False

    def __init__(self, *, reauthenticated: bool = False) -> None:
        """``reauthenticated``: the signer already proved it is them for a whole batch."""
        self.reauthenticated = reauthenticated

    def sign(
        self, pdf: bytes, signer: Person, proof: SignerProof, *, position: str = "", at: dt.datetime | None = None,
        room: SignatureRoom | None = None,
    ) -> bytes:
        """Re-authenticate (unless done for the batch) and return ``pdf`` as it is."""
        if not self.reauthenticated:
            reauthenticate(signer, proof)
        return pdf


class PadesSignature:
    """ลายมือชื่อดิจิทัล (PAdES) with a registered certificate (``SigningCertificate``).

    The key is opened with the proof (the PKCS#12 password or the token's PIN; for the organisation's
    seal, whose PIN is held server-side, the proof is the person's own password) and closed right after
    signing, so nothing that unlocks it is kept. A batch opens the key once (``open``) and signs every
    letter in one session; ``close`` forgets it. The stamp goes into the letter's signature block with a
    QR code to ``/verify?d=<sha256 of the rendered letter>``.

    A signed PDF cannot change afterwards, so the workflow draws the letter's number and date before
    rendering it for this method (``numbers_on_signing``).
    """

    method = SignatureMethod.PADES
    numbers_on_signing = True

    def __init__(
        self,
        open_key: Callable[[str], KeySource],
        *,
        level: str = "B-B",
        tsa_url: str | None = None,
        trust_roots: list[Any] | None = None,
        base_url: str = "",
        visible: bool = True,
        reauthenticate_with_password: bool = False,
        certificate: SigningCertificate | None = None,
        certify: bool = False,
    ) -> None:
        self.open_key = open_key
        self.certify = certify
        self.level = level
        self.tsa_url = tsa_url or None
        self.trust_roots = trust_roots or []
        self.base_url = base_url
        self.visible = visible
        self.reauthenticate_with_password = reauthenticate_with_password
        self.certificate = certificate
        self.stamp_name = ""  # printed instead of the signer's name (a stamped letter's organisation)
        self._session: PadesSigner | None = None
        self._key: KeySource | None = None

    @classmethod
    def for_certificate(cls, certificate: SigningCertificate) -> PadesSignature:
        """Signing with ``certificate`` at its organisation's level."""
        from django.conf import settings

        from .models import KeyLocation
        from .policy import certifies, signing_level, tsa_url
        from .registry import open_key
        from .trust import trust_roots

        return cls(
            lambda secret: open_key(certificate, secret),
            level=signing_level(certificate.organisation_id), tsa_url=tsa_url(), trust_roots=trust_roots(),
            base_url=getattr(settings, "SARABAN_PUBLIC_URL", ""),
            reauthenticate_with_password=certificate.key_location == KeyLocation.SEAL,
            certificate=certificate, certify=certifies(certificate.organisation_id),
        )

    @classmethod
    def for_signer(cls, certificate: SigningCertificate, signer: Person, organisation_id: int) -> PadesSignature:
        """``for_certificate``, once ``signer`` is shown to be allowed to sign with it for the organisation."""
        from .selectors import usable_certificates

        if certificate.pk not in {c.pk for c in usable_certificates(signer, organisation_id)}:
            raise PermissionRefused(
                code="signature.certificate_unusable",
                message_th="ใบรับรองนี้ใช้ลงนามไม่ได้ (ไม่ใช่ของท่าน หมดอายุ ถูกเพิกถอน หรือยกเลิกแล้ว)",
                message_en="This certificate cannot be used: it is not yours, or it expired, was revoked or withdrawn",
            )
        return cls.for_certificate(certificate)

    def open(self, signer: Person, proof: SignerProof) -> None:
        """Check the proof and open the key for a batch (``KeyUnavailable`` becomes ``PermissionRefused``)."""
        from .pades.keys import KeyUnavailable
        from .pades.sign import PadesSigner, SigningFailed

        if self._session is not None:
            return
        if self.reauthenticate_with_password:
            reauthenticate(signer, proof)
        try:
            self._key = self.open_key(proof.password)
        except KeyUnavailable as exc:
            raise PermissionRefused(code=exc.code, message_th=exc.message_th, message_en=exc.message_en) from None
        try:
            from .trust import local_crls

            self._session = PadesSigner(
                self._key, level=self.level, tsa_url=self.tsa_url,  # type: ignore[arg-type]
                trust_roots=self.trust_roots, known_crls=local_crls(),
            )
        except SigningFailed:
            self.close()
            raise

    @property
    def is_open(self) -> bool:
        """Whether a batch opened the key."""
        return self._session is not None

    def close(self) -> None:
        """Forget the key."""
        if self._session is not None:
            self._session.close()  # its event loop, HTTP sessions and worker processes
        if self._key is not None:
            self._key.close()
        self._key = None
        self._session = None

    def sign(
        self, pdf: bytes, signer: Person, proof: SignerProof, *, position: str = "", at: dt.datetime | None = None,
        room: SignatureRoom | None = None,
    ) -> bytes:
        """Sign ``pdf`` at the configured level (opening and closing the key unless a batch opened it)."""
        batch = self._session is not None
        if not batch:
            self.open(signer, proof)
        try:
            assert self._session is not None
            return self._session.sign(
                pdf, visible=self._appearance(pdf, signer, position, at, room), certify=self.certify
            )
        finally:
            if not batch:
                self.close()

    def _appearance(
        self, pdf: bytes, signer: Person, position: str, at: dt.datetime | None, room: SignatureRoom | None
    ) -> SignatureAppearance | None:
        from .pades.appearance import SignatureAppearance, letter_appearance, verify_url

        if not self.visible:
            return None
        name = self.stamp_name or getattr(signer, "display_name", "") or signer.get_username()
        when = at or dt.datetime.now(dt.UTC)
        url = verify_url(hashlib.sha256(pdf).hexdigest(), self.base_url)
        if room is not None:
            return SignatureAppearance(name, position, when, url, page=room.page, box=room.box)
        return letter_appearance(pdf, signer_name=name, position=position, signed_at=when, url=url)


def signing_method(name: str = SignatureMethod.TYPED_NAME) -> SigningMethod:
    """The signing method called ``name`` (PAdES needs a certificate: ``PadesSignature.for_certificate``)."""
    if name == SignatureMethod.TYPED_NAME:
        return TypedNameSignature()
    raise PermissionRefused(
        code="signature.method_unavailable",
        message_th="วิธีลงนามนี้ยังไม่เปิดใช้งาน",
        message_en=f"The signing method {name!r} is not available",
    )
