"""Signing methods behind one interface.

The workflow asks a ``SigningMethod`` to sign the rendered PDF of a letter once the signer has proved
who they are. The typed-name method of the 2021 amendment needs nothing more than that proof: the
system records the signer, the time and the digest of the PDF. A PKI method (PAdES, next release)
returns a PDF that carries a cryptographic signature instead; both are recorded the same way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from django.contrib.auth import authenticate

from saraban.core.errors import PermissionRefused
from saraban.directory.models import Person

from .models import SignatureMethod

if TYPE_CHECKING:
    from .pades.keys import KeySource


@dataclass(frozen=True)
class SignerProof:
    """What the signer typed to prove it is them, at the moment of signing (never stored)."""

    password: str


class SigningMethod(Protocol):
    """A way of signing a rendered letter."""

    method: SignatureMethod

    def sign(self, pdf: bytes, signer: Person, proof: SignerProof) -> bytes:
        """Check ``proof`` for ``signer`` and return the signed PDF; ``PermissionRefused`` otherwise."""
        ...


def reauthenticate(signer: Person, proof: SignerProof) -> None:
    """Refuse unless ``proof`` is the signer's current password (re-authentication before signing)."""
    if authenticate(username=signer.get_username(), password=proof.password) is None:
        raise PermissionRefused(
            code="signature.reauthentication_failed",
            message_th="รหัสผ่านไม่ถูกต้อง ไม่สามารถลงนามได้",
            message_en="The password is wrong; the letter was not signed",
        )


class TypedNameSignature:
    """ลงนามโดยพิมพ์ชื่อ: the signer re-authenticates; the PDF is kept as rendered, with the mark."""

    method = SignatureMethod.TYPED_NAME

    def sign(self, pdf: bytes, signer: Person, proof: SignerProof) -> bytes:
        reauthenticate(signer, proof)
        return pdf


class PadesSignature:
    """ลายมือชื่อดิจิทัล (PAdES): the key is opened with the proof (PKCS#12 password or token PIN).

    ``open_key`` turns ``SignerProof.password`` into a ``KeySource`` (e.g. ``lambda pw:
    Pkcs12Key.from_file(path, pw)`` or a ``Pkcs11Key``/``OrganisationSeal``); the key is closed right
    after signing, so nothing that unlocks it is kept. The stamp goes into the letter's signature
    block with a QR code to ``/verify?d=<sha256 of the rendered letter>``.
    """

    method = SignatureMethod.PADES

    def __init__(
        self,
        open_key: Callable[[str], KeySource],
        *,
        level: str = "B-B",
        tsa_url: str | None = None,
        trust_roots: list[Any] | None = None,
        base_url: str = "",
        visible: bool = True,
    ) -> None:
        self.open_key = open_key
        self.level = level
        self.tsa_url = tsa_url
        self.trust_roots = trust_roots or []
        self.base_url = base_url
        self.visible = visible

    def sign(self, pdf: bytes, signer: Person, proof: SignerProof) -> bytes:
        """Open the key with ``proof``, sign ``pdf`` at the configured level and close the key."""
        from .pades.appearance import letter_appearance, verify_url
        from .pades.keys import KeyUnavailable
        from .pades.sign import sign_pdf

        try:
            key = self.open_key(proof.password)
        except KeyUnavailable as exc:
            raise PermissionRefused(code=exc.code, message_th=exc.message_th, message_en=exc.message_en) from None
        try:
            name = getattr(signer, "display_name", "") or signer.get_username()
            appearance = letter_appearance(
                pdf, signer_name=name, position=getattr(signer, "position_title", "") or "",
                signed_at=dt.datetime.now(dt.UTC),
                url=verify_url(hashlib.sha256(pdf).hexdigest(), self.base_url),
            ) if self.visible else None
            return sign_pdf(
                pdf, key, level=self.level, tsa_url=self.tsa_url,  # type: ignore[arg-type]
                trust_roots=self.trust_roots, visible=appearance,
            )
        finally:
            key.close()

    @classmethod
    def from_settings(cls) -> PadesSignature | None:
        """The PAdES method configured by ``settings.SARABAN_PADES`` (``None`` when not configured).

        ``SARABAN_PADES = {"p12": "/path/signer.p12"}`` or ``{"pkcs11": {"lib": …, "token_label": …,
        "key_label": …}}``, plus optional ``"level"``, ``"tsa_url"``, ``"base_url"``.
        """
        from django.conf import settings

        from .pades.keys import Pkcs11Key, Pkcs12Key
        from .trust import trust_roots

        config: dict[str, Any] | None = getattr(settings, "SARABAN_PADES", None)
        if not config:
            return None
        open_key: Callable[[str], KeySource]
        if "p12" in config:
            path = config["p12"]
            open_key = lambda password: Pkcs12Key.from_file(path, password)  # noqa: E731
        elif "pkcs11" in config:
            token = dict(config["pkcs11"])
            open_key = lambda pin: Pkcs11Key(pin=pin, **token)  # noqa: E731
        else:
            return None
        return cls(open_key, level=config.get("level", "B-B"), tsa_url=config.get("tsa_url"),
                   trust_roots=trust_roots(), base_url=config.get("base_url", ""))


def signing_method(name: str = SignatureMethod.TYPED_NAME) -> SigningMethod:
    """The signing method called ``name``."""
    if name == SignatureMethod.TYPED_NAME:
        return TypedNameSignature()
    if name == SignatureMethod.PADES:
        pades = PadesSignature.from_settings()
        if pades is not None:
            return pades
    raise PermissionRefused(
        code="signature.method_unavailable",
        message_th="วิธีลงนามนี้ยังไม่เปิดใช้งาน",
        message_en=f"The signing method {name!r} is not available",
    )
