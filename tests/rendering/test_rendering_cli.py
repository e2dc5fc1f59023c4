"""``saraban render``: a PDF for a good file, exit code 2 and a Thai+English message for a bad one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import EXAMPLES

pytestmark = pytest.mark.pdf


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SARABAN_HOME": str(tmp_path / "home"), "DJANGO_SETTINGS_MODULE": "saraban.settings"}
    return subprocess.run(
        [sys.executable, "-m", "saraban", "render", *args],
        capture_output=True, text=True, env=env, timeout=120,
    )


def test_renders_an_example(tmp_path: Path) -> None:
    out = tmp_path / "out.pdf"
    result = run(tmp_path, str(EXAMPLES[0]), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_bytes().startswith(b"%PDF-")
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def _bad(tmp_path: Path, content: bytes) -> tuple[subprocess.CompletedProcess[str], Path]:
    src = tmp_path / "bad.json"
    src.write_bytes(content)
    out = tmp_path / "out.pdf"
    return run(tmp_path, str(src), "-o", str(out)), out


def _assert_refused(result: subprocess.CompletedProcess[str], out: Path, *needles: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    assert not out.exists()
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".tmp")]
    for needle in needles:
        assert needle in result.stderr, result.stderr


def test_not_json(tmp_path: Path) -> None:
    result, out = _bad(tmp_path, b'{"type": "external",')
    _assert_refused(result, out, "ไม่ใช่ JSON", "not valid JSON")


def test_not_utf8(tmp_path: Path) -> None:
    result, out = _bad(tmp_path, '{"subject": "เรื่อง"}'.encode("cp874"))
    _assert_refused(result, out, "UTF-8", "ไม่ได้เข้ารหัส")


def test_missing_file(tmp_path: Path) -> None:
    out = tmp_path / "out.pdf"
    _assert_refused(run(tmp_path, str(tmp_path / "nope.json"), "-o", str(out)), out, "ไม่พบไฟล์", "not found")


def test_wrong_type(tmp_path: Path) -> None:
    data = json.loads(EXAMPLES[0].read_text(encoding="utf-8"))
    data["references"] = "not a list"
    data["type"] = "telegram"
    result, out = _bad(tmp_path, json.dumps(data, ensure_ascii=False).encode())
    _assert_refused(result, out, "references", "ต้องเป็นรายการ", "type", "ค่าไม่อยู่ในรายการที่กำหนด")


def test_missing_required_field(tmp_path: Path) -> None:
    data = json.loads((EXAMPLES[0].parent / "external.json").read_text(encoding="utf-8"))
    del data["subject"]
    data["signer"]["name"] = ""
    result, out = _bad(tmp_path, json.dumps(data, ensure_ascii=False).encode())
    _assert_refused(result, out, "subject", "ต้องระบุเรื่อง", "The subject is required", "signer.name")


def test_failure_keeps_an_existing_output(tmp_path: Path) -> None:
    out = tmp_path / "out.pdf"
    out.write_bytes(b"old")
    src = tmp_path / "bad.json"
    src.write_text("[]")
    result = run(tmp_path, str(src), "-o", str(out))
    assert result.returncode == 2 and out.read_bytes() == b"old"
    assert "JSON" in result.stderr
