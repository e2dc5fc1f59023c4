"""Helpers of the rendering tests: they need poppler-utils and qpdf, never the database."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from saraban.regulation.content import LetterContent, parse_letter_json

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples" / "letters").glob("*.json"))


def need(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is not installed: run the README's test command, which installs it")


def squash(text: str) -> str:
    """``text`` without any whitespace (pdftotext inserts spaces between Thai characters)."""
    return re.sub(r"\s+", "", text)


def pdf_text(pdf: bytes, tmp_path: Path, name: str = "doc") -> str:
    """The text of ``pdf`` by pdftotext, whitespace removed (nothing else is forgiven)."""
    need("pdftotext")
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    raw = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True).stdout.decode()
    return squash(raw)


def raw_pdf_text(pdf: bytes, tmp_path: Path, *, layout: bool = False) -> str:
    """The text of ``pdf`` by pdftotext as it is; pages are separated by form feeds."""
    need("pdftotext")
    path = tmp_path / "raw.pdf"
    path.write_bytes(pdf)
    args = ["pdftotext", *(["-layout"] if layout else []), str(path), "-"]
    return subprocess.run(args, check=True, capture_output=True).stdout.decode()


def pdf_info(pdf: bytes, tmp_path: Path) -> dict[str, str]:
    need("pdfinfo")
    path = tmp_path / "info.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True).stdout.decode()
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in out.splitlines())}


def load_example(path: Path) -> LetterContent:
    return parse_letter_json(json.loads(path.read_text(encoding="utf-8")))


@pytest.fixture(params=EXAMPLES, ids=[p.stem for p in EXAMPLES])
def example(request: pytest.FixtureRequest) -> Path:
    return Path(request.param)
