"""Plain-format ECDSA signatures (BSI TR-03111 §5.2.1), as German and other EU smart cards make them.

The signature value is ``r || s``, each the curve's size in bytes, instead of X9.62's DER
``SEQUENCE { r, s }``; the algorithm is named by the ``ecdsa-plain-*`` identifiers under
``0.4.0.127.0.7.1.1.4.1``. pyhanko-certvalidator knows only the DER form and calls such a signature
invalid, so validation uses ``PlainEcdsaAwareValidator``: it re-encodes the value and checks it as
the ECDSA signature it is. Every other algorithm goes to pyHanko's own validator unchanged.
"""

from __future__ import annotations

from typing import Any

from asn1crypto import algos
from asn1crypto.keys import PublicKeyInfo
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from pyhanko_certvalidator.sig_validate import (
    DEFAULT_VALIDATION_CONTEXT,
    DefaultSignatureValidator,
    SignatureValidationContext,
)

_PLAIN_ECDSA_ARC = "0.4.0.127.0.7.1.1.4.1"

# ecdsa-plain-<hash> (BSI TR-03111 v2.10, §5.2.1): the last arc names the hash.
PLAIN_ECDSA_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    f"{_PLAIN_ECDSA_ARC}.1": hashes.SHA1,
    f"{_PLAIN_ECDSA_ARC}.2": hashes.SHA224,
    f"{_PLAIN_ECDSA_ARC}.3": hashes.SHA256,
    f"{_PLAIN_ECDSA_ARC}.4": hashes.SHA384,
    f"{_PLAIN_ECDSA_ARC}.5": hashes.SHA512,
    f"{_PLAIN_ECDSA_ARC}.8": hashes.SHA3_224,
    f"{_PLAIN_ECDSA_ARC}.9": hashes.SHA3_256,
    f"{_PLAIN_ECDSA_ARC}.10": hashes.SHA3_384,
    f"{_PLAIN_ECDSA_ARC}.11": hashes.SHA3_512,
}


def plain_to_der(signature: bytes) -> bytes:
    """``r || s`` (two equal halves) as the DER ``ECDSA-Sig-Value``; ``InvalidSignature`` if it is not that."""
    if not signature or len(signature) % 2:
        raise InvalidSignature("a plain ECDSA signature has two halves of equal length")
    half = len(signature) // 2
    return encode_dss_signature(int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big"))


class PlainEcdsaAwareValidator(DefaultSignatureValidator):
    """pyHanko's signature validator, which also checks plain-format (TR-03111) ECDSA signatures."""

    def validate_signature(
        self,
        signature: bytes,
        signed_data: bytes,
        public_key_info: PublicKeyInfo,
        signature_algorithm: algos.SignedDigestAlgorithm,
        context: SignatureValidationContext = DEFAULT_VALIDATION_CONTEXT,
    ) -> Any:
        """Check ``signature`` over ``signed_data``; raise ``InvalidSignature`` when it does not hold."""
        hash_class = PLAIN_ECDSA_HASHES.get(signature_algorithm["algorithm"].dotted)
        if hash_class is None:
            return super().validate_signature(signature, signed_data, public_key_info, signature_algorithm, context)
        key = serialization.load_der_public_key(public_key_info.dump())
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise InvalidSignature("a plain ECDSA signature needs an elliptic-curve key")
        algorithm: Any = Prehashed(hash_class()) if context.prehashed else hash_class()
        key.verify(plain_to_der(signature), signed_data, ec.ECDSA(algorithm))
        return None


PLAIN_ECDSA_AWARE_VALIDATOR = PlainEcdsaAwareValidator()
