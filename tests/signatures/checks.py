"""Independent checks of signed PDFs: pyHanko's validator called directly, openssl cms, qpdf."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

from asn1crypto import x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext


def pyhanko_bottom_line(pdf: bytes, roots: list[x509.Certificate]) -> list[bool]:
    """pyHanko's own verdict for each regular signature (no Saraban code involved)."""
    reader = PdfFileReader(io.BytesIO(pdf))
    return [
        validate_pdf_signature(sig, ValidationContext(trust_roots=roots)).bottom_line
        for sig in reader.embedded_regular_signatures
    ]


def _der_prefix(data: bytes) -> bytes:
    """The DER object at the start of ``data`` (the /Contents placeholder is padded with zeros).

    Its length comes from the DER header: stripping trailing zeros would cut a signature whose last
    byte happens to be 0x00 (one in 256).
    """
    first = data[1]
    if first < 0x80:
        return data[: 2 + first]
    size = first & 0x7F
    return data[: 2 + size + int.from_bytes(data[2 : 2 + size], "big")]


def openssl_cms_verify(pdf: bytes, root_pem: Path, tmp: Path) -> list[str]:
    """``openssl cms -verify`` on each signature's CMS and the ByteRange slices it covers."""
    outputs = []
    pattern = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")
    for n, match in enumerate(pattern.finditer(pdf)):
        a, b, c, d = (int(v) for v in match.groups())
        content = pdf[a:a + b] + pdf[c:c + d]
        hex_contents = pdf[a + b:c].strip(b"<> \n\r")
        cms = _der_prefix(bytes.fromhex(hex_contents.decode()))
        (tmp / f"content{n}.bin").write_bytes(content)
        (tmp / f"sig{n}.der").write_bytes(cms)
        proc = subprocess.run(
            ["openssl", "cms", "-verify", "-inform", "DER", "-in", str(tmp / f"sig{n}.der"),
             "-content", str(tmp / f"content{n}.bin"), "-binary", "-CAfile", str(root_pem),
             "-purpose", "any", "-out", "/dev/null"],
            capture_output=True, text=True,
        )
        outputs.append(proc.stderr + proc.stdout)
    return outputs


def qpdf_check(path: Path) -> subprocess.CompletedProcess[str]:
    """``qpdf --check`` on the file."""
    return subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
