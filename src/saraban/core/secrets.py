"""Secrets kept in the database (mail passwords, DKIM keys): sealed with AES-GCM, never stored in clear.

The key is derived (HKDF-SHA256) from ``SARABAN_SECRETS_KEY`` when set, else from Django's
``SECRET_KEY``; each value is bound to its purpose (the associated data), so a sealed SMTP password
cannot be passed off as another field. A sealed value reads ``v1:`` + base64(nonce ‖ ciphertext).
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_PREFIX = "v1:"
_LABEL = b"saraban: secrets in the database v1"


class SecretUnreadable(Exception):
    """A sealed value cannot be opened: the key it was sealed under is not this deployment's."""


def _key() -> bytes:
    material = (getattr(settings, "SARABAN_SECRETS_KEY", "") or settings.SECRET_KEY).encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_LABEL).derive(material)


def seal(value: str, purpose: str) -> str:
    """``value`` sealed for ``purpose`` ("" stays "": nothing to keep)."""
    if not value:
        return ""
    nonce = os.urandom(12)
    sealed = AESGCM(_key()).encrypt(nonce, value.encode(), purpose.encode())
    return _PREFIX + base64.b64encode(nonce + sealed).decode()


def unseal(sealed: str, purpose: str) -> str:
    """The value ``seal`` sealed for ``purpose``; ``SecretUnreadable`` if it was sealed under another key."""
    if not sealed:
        return ""
    if not sealed.startswith(_PREFIX):
        raise SecretUnreadable("not a sealed value")
    try:
        data = base64.b64decode(sealed[len(_PREFIX):], validate=True)
        return AESGCM(_key()).decrypt(data[:12], data[12:], purpose.encode()).decode()
    except (ValueError, InvalidTag) as exc:
        raise SecretUnreadable("sealed under another key or for another purpose") from exc
