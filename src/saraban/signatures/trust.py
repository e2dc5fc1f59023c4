"""Trust roots: which root certificates a signature must chain to before Saraban calls it trusted.

The roots come from ``settings.SARABAN_TRUST_ROOTS`` (a list of PEM/DER files or folders of them) or,
when that setting is absent, from the environment variable ``SARABAN_TRUST_ROOTS`` (paths separated
by ``os.pathsep``), plus every certificate file in ``SARABAN_HOME/trust``. Nothing is fetched
from the network. ``trust/README.md`` explains how to add
Thailand's National Root CA hierarchy.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from asn1crypto import pem, x509

from saraban.core.errors import SarabanError

TRUST_DIR = Path(__file__).resolve().parent / "trust"
_CERT_SUFFIXES = {".pem", ".crt", ".cer", ".der"}


def configured_root_paths() -> list[Path]:
    """The configured trust-root files and folders (setting first, then the environment)."""
    from django.conf import settings

    configured: Sequence[str | Path] | str | None = getattr(settings, "SARABAN_TRUST_ROOTS", None)
    if configured is None:
        env = os.environ.get("SARABAN_TRUST_ROOTS", "")
        configured = [p for p in env.split(os.pathsep) if p.strip()]
    elif isinstance(configured, str | Path):
        configured = [configured]
    paths = [Path(p) for p in configured]
    local = local_trust_dir()
    if local.is_dir():
        paths.append(local)
    return paths


def local_trust_dir() -> Path:
    """``SARABAN_HOME/trust``: roots added on this installation (the demo puts its own root here)."""
    from django.conf import settings

    return Path(settings.SARABAN_HOME) / "trust"


def load_certificates(paths: Iterable[str | Path]) -> list[x509.Certificate]:
    """Every certificate in ``paths`` (PEM bundles, DER files, or folders of them, not recursive)."""
    certs: list[x509.Certificate] = []
    for raw in paths:
        path = Path(raw)
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in _CERT_SUFFIXES) if path.is_dir() else [path]
        for file in files:
            certs.extend(_read_certs(file))
    return certs


def _read_certs(path: Path) -> list[x509.Certificate]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SarabanError(
            code="trust.unreadable",
            message_th=f"อ่านไฟล์ใบรับรองหลัก {path} ไม่ได้",
            message_en=f"Cannot read the trust-root file {path}: {exc.strerror}",
        ) from None
    try:
        if pem.detect(data):
            return [x509.Certificate.load(der) for _type, _hdr, der in pem.unarmor(data, multiple=True)]
        cert = x509.Certificate.load(data)
        _ = cert.native  # force parsing so that garbage is refused here
        return [cert]
    except (ValueError, TypeError) as exc:
        raise SarabanError(
            code="trust.malformed",
            message_th=f"ไฟล์ {path} ไม่ใช่ใบรับรองที่ถูกต้อง",
            message_en=f"{path} is not a certificate file: {exc}",
        ) from None


def trust_roots(extra: Iterable[str | Path] = ()) -> list[x509.Certificate]:
    """The configured trust roots plus those in ``extra`` (e.g. a ``--trust`` file)."""
    return load_certificates([*configured_root_paths(), *extra])


def local_crls() -> list[bytes]:
    """The CRLs kept in ``SARABAN_HOME/trust/crls`` (DER or PEM ``.crl`` files), used beside fetched ones.

    A CA run by this installation (the demo's) publishes its CRL here; an administrator may also put
    a CA's current CRL here for a server that cannot reach the CA. Unreadable files are skipped.
    """
    folder = local_trust_dir() / "crls"
    crls: list[bytes] = []
    if not folder.is_dir():
        return crls
    for file in sorted(folder.glob("*.crl")):
        try:
            data = file.read_bytes()
            if pem.detect(data):
                crls.extend(der for _type, _hdr, der in pem.unarmor(data, multiple=True))
            else:
                crls.append(data)
        except (OSError, ValueError):
            continue
    return crls
