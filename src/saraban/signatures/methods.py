"""Signing methods behind one interface.

The workflow asks a ``SigningMethod`` to sign the rendered PDF of a letter once the signer has proved
who they are. The typed-name method of the 2021 amendment needs nothing more than that proof: the
system records the signer, the time and the digest of the PDF. A PKI method (PAdES, next release)
returns a PDF that carries a cryptographic signature instead; both are recorded the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from django.contrib.auth import authenticate

from saraban.core.errors import PermissionRefused
from saraban.directory.models import Person

from .models import SignatureMethod


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


def signing_method(name: str = SignatureMethod.TYPED_NAME) -> SigningMethod:
    """The signing method called ``name``."""
    if name == SignatureMethod.TYPED_NAME:
        return TypedNameSignature()
    raise PermissionRefused(
        code="signature.method_unavailable",
        message_th="วิธีลงนามนี้ยังไม่เปิดใช้งาน",
        message_en=f"The signing method {name!r} is not available",
    )
