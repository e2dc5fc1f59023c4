"""Secrets kept in the database are sealed (AES-GCM) under a key derived from the deployment's secret."""

from __future__ import annotations

from typing import Any

import pytest

from saraban.core.secrets import SecretUnreadable, seal, unseal


def test_sealed_values_open_for_their_purpose_only(settings: Any) -> None:
    sealed = seal("รหัสผ่าน-SMTP-2569", "mail.smtp_password")
    assert sealed.startswith("v1:") and "2569" not in sealed
    assert unseal(sealed, "mail.smtp_password") == "รหัสผ่าน-SMTP-2569"
    assert seal("same", "p") != seal("same", "p")  # a fresh nonce each time
    with pytest.raises(SecretUnreadable):
        unseal(sealed, "mail.imap_password")
    with pytest.raises(SecretUnreadable):
        unseal("clear text", "mail.smtp_password")
    assert seal("", "p") == "" and unseal("", "p") == ""


def test_another_deployment_key_cannot_open_them(settings: Any) -> None:
    sealed = seal("secret", "p")
    settings.SARABAN_SECRETS_KEY = "another deployment's key"
    with pytest.raises(SecretUnreadable):
        unseal(sealed, "p")
