"""The deployment identity: made once whoever asks first, kept in the database, its key never in clear."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import keys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.db import connection

from saraban.exchange import identity as identity_module
from saraban.exchange.envelope import open_envelope, pack
from saraban.exchange.identity import IdentityLocked, deployment_identity, forget_loaded_identities
from saraban.exchange.models import DeploymentIdentity

from .helpers import LIMITS, letter

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    forget_loaded_identities()
    yield
    forget_loaded_identities()


@pytest.mark.django_db
def test_the_identity_is_made_on_first_use_and_then_the_same(settings: Any) -> None:
    settings.SARABAN_PUBLIC_URL = "https://saraban.chiangmai.go.th"
    settings.SARABAN_DEPLOYMENT_NAME = "จังหวัดเชียงใหม่ / Chiang Mai"
    first = deployment_identity()
    forget_loaded_identities()
    again = deployment_identity()
    assert (again.deployment_id, again.fingerprint) == (first.deployment_id, first.fingerprint)
    assert DeploymentIdentity.objects.count() == 1
    certificate = x509.load_der_x509_certificate(first.certificate.dump())
    assert certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == \
        "จังหวัดเชียงใหม่ / Chiang Mai"
    san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == ["https://saraban.chiangmai.go.th"]
    certificate.verify_directly_issued_by(certificate)  # self-signed
    assert isinstance(certificate.public_key(), ec.EllipticCurvePublicKey)
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    assert "BEGIN CERTIFICATE" in first.certificate_pem
    assert "private_key" not in repr(first)


@pytest.mark.django_db
def test_a_long_thai_name_is_cut_to_what_a_common_name_holds(settings: Any) -> None:
    settings.SARABAN_DEPLOYMENT_NAME = "องค์การบริหารส่วนตำบลแม่สาย อำเภอแม่สาย จังหวัดเชียงราย"
    identity = deployment_identity()
    common_name = x509.load_der_x509_certificate(identity.certificate.dump()).subject.get_attributes_for_oid(
        x509.NameOID.COMMON_NAME)[0].value
    assert isinstance(common_name, str) and settings.SARABAN_DEPLOYMENT_NAME.startswith(common_name)
    assert len(common_name.encode()) <= 64 and identity.name == settings.SARABAN_DEPLOYMENT_NAME


@pytest.mark.django_db
def test_the_name_defaults_to_the_public_host(settings: Any) -> None:
    settings.SARABAN_PUBLIC_URL = "https://saraban.opm.go.th/"
    assert deployment_identity().name == "saraban.opm.go.th"


@pytest.mark.django_db
def test_it_seals_messages_that_its_pin_opens(to: Any) -> None:
    identity = deployment_identity()
    data = pack(letter(identity.address("opm-ops"), to), identity.sealing_key)
    opened = open_envelope(data, trusted={identity.fingerprint: identity.deployment_id}, **LIMITS)
    assert opened.envelope.sender.deployment == identity.deployment_id


def _derived_passphrase(secret_key: str) -> bytes:
    """The documented fallback (docs/exchange.md): base64 of HKDF-SHA256(SECRET_KEY, no salt, the label)."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"saraban exchange: deployment key encryption v1").derive(secret_key.encode())
    return base64.b64encode(key)


@pytest.mark.django_db
def test_the_stored_key_is_encrypted_pkcs8_under_the_secret_key_derivation(settings: Any) -> None:
    identity = deployment_identity()
    row = DeploymentIdentity.objects.get()
    stored = bytes(row.encrypted_key)
    assert row.key_protection == "secret_key"
    with pytest.raises(TypeError, match="encrypted"):
        serialization.load_der_private_key(stored, password=None)
    with pytest.raises(ValueError):
        serialization.load_der_private_key(stored, password=b"wrong")
    with pytest.raises(ValueError):
        keys.PrivateKeyInfo.load(stored).native  # noqa: B018 (parsing is the check): not a clear PKCS#8
    assert keys.EncryptedPrivateKeyInfo.load(stored)["encryption_algorithm"]["algorithm"].native == "pbes2"
    scalar = identity.private_key.private_numbers().private_value.to_bytes(32, "big")
    clear = identity.private_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption())
    assert scalar not in stored and clear not in stored and b"PRIVATE KEY" not in stored
    key = serialization.load_der_private_key(stored, password=_derived_passphrase(settings.SECRET_KEY))
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert key.private_numbers() == identity.private_key.private_numbers()


@pytest.mark.django_db
def test_a_configured_passphrase_protects_the_key_and_a_wrong_one_locks_it(settings: Any) -> None:
    settings.SARABAN_EXCHANGE_KEY_PASSPHRASE = "correct horse battery staple"
    identity = deployment_identity()
    row = DeploymentIdentity.objects.get()
    assert row.key_protection == "passphrase"
    with pytest.raises(ValueError):
        serialization.load_der_private_key(bytes(row.encrypted_key), password=_derived_passphrase(settings.SECRET_KEY))
    serialization.load_der_private_key(bytes(row.encrypted_key), password=b"correct horse battery staple")
    forget_loaded_identities()
    settings.SARABAN_EXCHANGE_KEY_PASSPHRASE = "another passphrase"
    with pytest.raises(IdentityLocked) as locked:
        deployment_identity()
    assert locked.value.code == "exchange.identity_locked" and "correct horse" not in str(locked.value)
    assert DeploymentIdentity.objects.get().fingerprint == identity.fingerprint  # never replaced by a new key


@pytest.mark.django_db
def test_another_secret_key_locks_a_key_stored_under_the_derivation(settings: Any) -> None:
    deployment_identity()
    forget_loaded_identities()
    settings.SECRET_KEY = "a-different-secret-key-" + "x" * 40
    with pytest.raises(IdentityLocked):
        deployment_identity()


@pytest.mark.django_db
def test_setting_a_passphrase_later_re_encrypts_the_key_under_it(settings: Any) -> None:
    before = deployment_identity()
    forget_loaded_identities()
    settings.SARABAN_EXCHANGE_KEY_PASSPHRASE = "now a passphrase"
    assert deployment_identity().fingerprint == before.fingerprint
    row = DeploymentIdentity.objects.get()
    assert row.key_protection == "passphrase"
    serialization.load_der_private_key(bytes(row.encrypted_key), password=b"now a passphrase")
    forget_loaded_identities()
    settings.SECRET_KEY = "rotated-" + "y" * 50  # the derived key no longer matters
    assert deployment_identity().fingerprint == before.fingerprint


@pytest.mark.django_db(transaction=True)
def test_four_threads_asking_first_at_once_get_one_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    threads_count = 4
    made = threading.Barrier(threads_count)
    real = identity_module._new_row_values

    def every_thread_makes_a_key_before_any_inserts() -> dict[str, object]:
        values = real()
        made.wait(timeout=30)  # all four passed the "no row yet" check: each will try to insert
        return values

    monkeypatch.setattr(identity_module, "_new_row_values", every_thread_makes_a_key_before_any_inserts)
    results: list[tuple[str, str]] = []
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            got = deployment_identity()
            results.append((got.deployment_id, got.fingerprint))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(results) == threads_count and len(set(results)) == 1, results
    row = DeploymentIdentity.objects.get()
    assert (row.deployment_id, row.fingerprint) == results[0]


@pytest.mark.django_db(transaction=True)
def test_three_processes_asking_first_at_once_get_one_identity(settings: Any) -> None:
    env = {**os.environ, "RACE_DB_NAME": str(connection.settings_dict["NAME"]),
           "SARABAN_SECRET_KEY": settings.SECRET_KEY, "DJANGO_SETTINGS_MODULE": "saraban.settings"}
    clients = [subprocess.Popen([sys.executable, "-m", "tests.exchange.identity_client"], cwd=ROOT, env=env,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(3)]
    try:
        for client in clients:
            assert client.stdout is not None
            assert json.loads(client.stdout.readline()) == "ready", client.stderr
        for client in clients:
            assert client.stdin is not None
            client.stdin.write("go\n")
            client.stdin.flush()
        answers = []
        for client in clients:
            out, err = client.communicate(timeout=120)
            assert client.returncode == 0, err[-3000:]
            answers.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for client in clients:
            if client.poll() is None:
                client.kill()
                client.wait()
    assert len({(a["deployment_id"], a["fingerprint"]) for a in answers}) == 1, answers
    assert DeploymentIdentity.objects.count() == 1
    assert deployment_identity().fingerprint == answers[0]["fingerprint"]
