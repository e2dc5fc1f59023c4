"""``saraban sign IN.pdf -o OUT.pdf --p12 FILE [--level …] [--tsa URL] [--trust ROOTS.pem]``.

The PKCS#12 password comes from ``SARABAN_P12_PASSWORD`` or a prompt, never from an argument.
"""

from __future__ import annotations

import getpass
import os
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from saraban.core.errors import SarabanError
from saraban.core.files import read_input, refuse, write_atomically
from saraban.signatures.pades.keys import Pkcs12Key
from saraban.signatures.pades.sign import LEVELS, sign_pdf
from saraban.signatures.trust import local_crls, trust_roots

PASSWORD_ENV = "SARABAN_P12_PASSWORD"


class Command(BaseCommand):
    """Sign a PDF with a PAdES signature (B-B, B-T, B-LT or B-LTA) from a PKCS#12 file."""

    help = "Sign a PDF: saraban sign IN.pdf -o OUT.pdf --p12 FILE [--level B-B|B-T|B-LT|B-LTA] [--tsa URL]"
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("input", type=Path, help="the PDF to sign")
        parser.add_argument("-o", "--output", type=Path, required=True, help="the signed PDF to write")
        parser.add_argument("--p12", type=Path, required=True, help="the signer's PKCS#12 file (.p12/.pfx)")
        parser.add_argument("--level", choices=LEVELS, default="B-B", help="PAdES level (default B-B)")
        parser.add_argument("--tsa", help="URL of the RFC 3161 time-stamping authority (B-T and up)")
        parser.add_argument("--trust", type=Path, action="append", default=[],
                            help="extra trust roots (PEM), used to collect revocation data for B-LT/B-LTA")

    def handle(self, *args: Any, **options: Any) -> None:
        pdf = read_input(options["input"])
        p12 = read_input(options["p12"])
        output: Path = options["output"]
        if not (output.parent if str(output.parent) else Path(".")).is_dir():
            raise refuse(f"ไม่พบโฟลเดอร์ของไฟล์ผลลัพธ์ {output}", f"The folder of {output} does not exist")
        level = options["level"]
        if level != "B-B" and not options["tsa"]:
            raise refuse(f"ระดับ {level} ต้องระบุ --tsa URL", f"Level {level} needs --tsa URL")
        password = os.environ.get(PASSWORD_ENV)
        if password is None:
            password = getpass.getpass("รหัสผ่านไฟล์ใบรับรอง / PKCS#12 password: ")
        try:
            roots = trust_roots(options["trust"])
            key = Pkcs12Key(p12, password)
            try:
                signed = sign_pdf(pdf, key, level=level, tsa_url=options["tsa"], trust_roots=roots,
                                  known_crls=local_crls())
            finally:
                key.close()
        except SarabanError as exc:
            raise CommandError(str(exc), returncode=1) from None
        write_atomically(output, signed)
        self.stdout.write(f"ลงนามแล้ว ({level}) / Signed ({level}): {output}")
