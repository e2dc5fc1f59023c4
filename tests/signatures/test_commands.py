"""``saraban sign`` and ``saraban verify``: exit codes 0/1/2, JSON keys, password never an argument."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .conftest import minimal_pdf
from .pki import TestPki

SIGNATURE_KEYS = {"indication", "sub_indication", "signer", "level", "signing_time", "modifications"}


def _saraban(*args: str, home: Path, password: str | None = "secret") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SARABAN_P12_PASSWORD"}
    env["SARABAN_HOME"] = str(home)
    env.pop("SARABAN_TRUST_ROOTS", None)
    if password is not None:
        env["SARABAN_P12_PASSWORD"] = password
    return subprocess.run([sys.executable, "-m", "saraban", *args], capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL, timeout=120)


def test_sign_then_verify(pki: TestPki, tmp_path: Path) -> None:
    src = tmp_path / "in.pdf"
    src.write_bytes(minimal_pdf())
    out = tmp_path / "out.pdf"
    signed = _saraban("sign", str(src), "-o", str(out), "--p12", str(pki.path("signer.p12")), "--level", "B-T",
                      "--tsa", pki.tsa_url, home=tmp_path)
    assert signed.returncode == 0, signed.stderr
    ok = _saraban("verify", str(out), "--trust", str(pki.path("root.cert.pem")), "--json", home=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    data = json.loads(ok.stdout)
    assert data["indication"] == "TOTAL_PASSED"
    assert set(data["signatures"][0]) >= SIGNATURE_KEYS
    assert data["signatures"][0]["level"] == "B-T"
    assert data["signatures"][0]["modifications"] == "none"
    assert "ถูกต้อง" in data["explanation_th"]
    # untrusted (no --trust): exit 1, Thai text on stdout
    untrusted = _saraban("verify", str(out), home=tmp_path)
    assert untrusted.returncode == 1
    assert "ยังยืนยัน" in untrusted.stdout
    # tampered: exit 1, TOTAL_FAILED
    data_bytes = out.read_bytes()
    at = data_bytes.index(b"100 100 l")
    (tmp_path / "bad.pdf").write_bytes(data_bytes[:at] + b"101" + data_bytes[at + 3:])
    bad = _saraban("verify", str(tmp_path / "bad.pdf"), "--trust", str(pki.path("root.cert.pem")), "--json",
                   home=tmp_path)
    assert bad.returncode == 1
    assert json.loads(bad.stdout)["indication"] == "TOTAL_FAILED"
    assert "Traceback" not in bad.stderr


def test_verify_exit_codes_for_bad_inputs(tmp_path: Path) -> None:
    assert _saraban("verify", str(tmp_path / "missing.pdf"), home=tmp_path).returncode == 2
    assert _saraban("verify", str(tmp_path), home=tmp_path).returncode == 2
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"not a pdf at all")
    result = _saraban("verify", str(junk), "--json", home=tmp_path)
    assert result.returncode == 1
    assert json.loads(result.stdout)["signatures"] == []


def test_sign_refusals(pki: TestPki, tmp_path: Path) -> None:
    src = tmp_path / "in.pdf"
    src.write_bytes(minimal_pdf())
    out = tmp_path / "out.pdf"
    wrong = _saraban("sign", str(src), "-o", str(out), "--p12", str(pki.path("signer.p12")), home=tmp_path,
                     password="wrong")
    assert wrong.returncode == 1 and "รหัสผ่าน" in wrong.stderr
    assert not out.exists()
    missing = _saraban("sign", str(tmp_path / "nope.pdf"), "-o", str(out), "--p12", str(pki.path("signer.p12")),
                       home=tmp_path)
    assert missing.returncode == 2
    no_tsa = _saraban("sign", str(src), "-o", str(out), "--p12", str(pki.path("signer.p12")), "--level", "B-LTA",
                      home=tmp_path)
    assert no_tsa.returncode == 2
    # the password is never an argument
    help_text = _saraban("sign", "--help", home=tmp_path).stdout
    assert "--password" not in help_text
