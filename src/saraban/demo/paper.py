"""Paper letters in the demo: scans of printed letters registered by a clerk, then read by OCR.

Each scan is one of the example letters rendered by Saraban, printed to a 300 dpi grey image and
turned a little, as a flatbed scanner gives it. Registering it queues its OCR; the worker started by
``saraban serve`` reads it within a minute, and its body can then be searched.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import tempfile
from pathlib import Path

from saraban.directory.models import Organisation, RoleAssignment
from saraban.inbox import services as inbox
from saraban.regulation.content import parse_letter_json
from saraban.rendering.letters import render_letter

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "letters"
# (example letter, the organisation that received it on paper)
PAPER_LETTERS = [("announcement", "opm-ops"), ("order", "nonthaburi")]


def scan_of(pdf: bytes, *, turn_degrees: float = 0.5) -> bytes:
    """The first page of ``pdf`` as a 300 dpi grey PNG, turned by ``turn_degrees``."""
    from PIL import Image, ImageFilter

    with tempfile.TemporaryDirectory() as work:
        source = Path(work) / "letter.pdf"
        source.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", "300", "-gray", "-png", "-singlefile", str(source), f"{work}/page"],
                       check=True, capture_output=True, timeout=120)
        with Image.open(f"{work}/page.png") as page:
            scanned = page.rotate(turn_degrees, resample=Image.Resampling.BICUBIC, fillcolor=255)
            scanned = scanned.filter(ImageFilter.GaussianBlur(0.6))
            out = io.BytesIO()
            scanned.save(out, format="PNG", dpi=(300, 300))
    return out.getvalue()


def register_paper_letters() -> int:
    """Register the demo's paper letters (skipped when the examples are not beside the code); how many."""
    done = 0
    for name, receiver in PAPER_LETTERS:
        path = EXAMPLES / f"{name}.json"
        org = Organisation.objects.filter(identifier=receiver).first()
        clerk = RoleAssignment.objects.filter(organisation=org, role="central_clerk").select_related("person").first()
        if not path.exists() or org is None or clerk is None:
            continue
        content = parse_letter_json(json.loads(path.read_text(encoding="utf-8")))
        inbox.register_paper(org, inbox.PaperLetter(
            sender_name=content.issuer.name, letter_number=content.number or "",
            letter_date=content.date or dt.date.today(), subject=content.subject,
        ), scans=[(scan_of(render_letter(content)), "image/png")], actor=clerk.person)
        done += 1
    return done


def back_file_scan() -> bytes | None:
    """One scan for the demo's old paper letters (the external example letter), or None without the examples."""
    path = EXAMPLES / "external.json"
    if not path.exists():
        return None
    return scan_of(render_letter(parse_letter_json(json.loads(path.read_text(encoding="utf-8")))), turn_degrees=-0.4)
