"""Another vendor's tools read our containers: Info-ZIP ``unzip`` and ``openssl cms`` (bootstrap installs both)."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

from saraban.exchange.envelope import Address, pack
from saraban.exchange.identity import Identity

from .helpers import letter


def test_unzip_and_openssl_read_and_verify_a_letter(sender: Identity, to: Address, tmp_path: Path) -> None:
    message = tmp_path / "letter.asice"
    message.write_bytes(pack(letter(sender.address("opm-ops"), to), sender.sealing_key))
    listing = subprocess.run(["unzip", "-l", str(message)], capture_output=True, text=True, check=True).stdout
    assert listing.split("\n")[3].split()[-1] == "mimetype"  # the first entry
    for name in ("envelope.json", "letter.pdf", "enclosures/01-agenda.pdf", "META-INF/ASiCManifest.xml",
                 "META-INF/signature001.p7s"):
        assert name in listing
    subprocess.run(["unzip", "-q", str(message), "-d", str(tmp_path / "x")], check=True)
    folder = tmp_path / "x"
    verify = ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-content", "META-INF/ASiCManifest.xml",
              "-in", "META-INF/signature001.p7s", "-out", "/dev/null"]
    result = subprocess.run([*verify, "-noverify"], cwd=folder, capture_output=True, text=True)
    assert result.returncode == 0 and "Verification successful" in result.stderr, result.stderr
    # With the pinned certificate as the only trust anchor, full verification succeeds too.
    (folder / "pinned.pem").write_text(sender.certificate_pem)
    result = subprocess.run([*verify, "-CAfile", "pinned.pem", "-purpose", "any"], cwd=folder,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    # A changed manifest no longer verifies.
    manifest = folder / "META-INF" / "ASiCManifest.xml"
    manifest.write_bytes(manifest.read_bytes().replace(b"letter.pdf", b"letter.PDF"))
    assert subprocess.run([*verify, "-noverify"], cwd=folder, capture_output=True).returncode != 0
    # Each part's SHA-256 is what the manifest says (openssl dgst, base64).
    digest = subprocess.run(["openssl", "dgst", "-sha256", "-binary", "letter.pdf"], cwd=folder,
                            capture_output=True, check=True).stdout
    assert base64.b64encode(digest) in manifest.read_bytes()
