"""Benchmark: the signer's batch in the workflow, letters per second end to end (JSON line last).

What a signer waits for at ``/work/sign/``: for each letter the number is drawn, the letter is rendered
with it, the stamp is placed in its signature block, it is signed (PAdES B-B with a registered
PKCS#12 certificate) and stored, each letter in its own transaction. Beside it, the same batch with the
typed-name signature (what the signer would otherwise use: render and record, no cryptography).
Runs on SQLite in a temporary ``SARABAN_HOME`` with the demo PKI.

Usage: ``.venv/bin/python bench/sign_batch.py [--letters 40]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]
os.environ["DJANGO_SETTINGS_MODULE"] = "saraban.settings"
os.environ["SARABAN_HOME"] = tempfile.mkdtemp(prefix="saraban-bench-batch-")
os.environ.pop("SARABAN_DATABASE_URL", None)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

PASSWORD = "bench-Pass-2569"


def approved_letters(count: int, tag: str) -> list[int]:
    """``count`` letters approved and waiting for the signer."""
    from saraban.correspondence.content import parse_letter_json
    from saraban.correspondence.models import Letter
    from saraban.correspondence.services import create_letter
    from saraban.correspondence.workflow import submit_for_review
    from saraban.directory.models import Organisation, Person

    org = Organisation.objects.get(identifier="bench")
    clerk, signer = Person.objects.get(username="clerk"), Person.objects.get(username="signer")
    data = json.loads((ROOT / "examples/letters/external.json").read_text("utf-8"))
    data.pop("number", None)
    data.pop("date", None)
    data["issuer"] = {}
    ids = []
    for n in range(count):
        content = parse_letter_json({**data, "subject": f"{data['subject']} ({tag} {n})"})
        letter = create_letter(org, content.model_dump(mode="json"), author=clerk)
        ids.append(submit_for_review(letter, actor=clerk, reviewers=[], signer=signer).pk)
    assert Letter.objects.filter(pk__in=ids, status="approved").count() == count
    return ids


def timed_batch(ids: list[int], certificate: object | None) -> float:
    """Letters per second of one batch (``background=False``: the time a signer waits for the bar)."""
    from saraban.directory.models import Organisation, Person
    from saraban.signatures.batch import batch_progress, start_batch
    from saraban.signatures.methods import SignerProof

    org = Organisation.objects.get(identifier="bench")
    signer = Person.objects.get(username="signer")
    started = time.perf_counter()
    batch = start_batch(signer=signer, organisation=org, letter_ids=ids, proof=SignerProof(PASSWORD),
                        certificate=certificate, background=False)  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    progress = batch_progress(batch)
    assert progress.signed == len(ids) and progress.failed == 0, progress
    return len(ids) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=40)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)

    from saraban.demo.pki import demo_ca, issue_pkcs12
    from saraban.directory.services import assign_role, create_organisation, create_person
    from saraban.signatures.registry import register_pkcs12

    org = create_organisation(identifier="bench", kind="department", name_th="สำนักงานทดสอบความเร็ว",
                              letter_code="นร 9999", category="opm", address="ทำเนียบรัฐบาล\nกรุงเทพมหานคร 10300")
    clerk = create_person(username="clerk", name_th="นางสาวธุรการ ทดสอบ", password=PASSWORD)
    assign_role(clerk, org, "central_clerk", position_title="เจ้าพนักงานธุรการ")
    signer = create_person(username="signer", name_th="นายผู้ลงนาม ทดสอบ", password=PASSWORD)
    assign_role(signer, org, "signer", position_title="ผู้อำนวยการ")
    data = issue_pkcs12(demo_ca(), common_name="Bench Signer", organisation="Bench", email="s@bench.invalid",
                        password=PASSWORD)
    certificate = register_pkcs12(organisation=org, holder=signer, data=data, password=PASSWORD, actor=signer)

    timed_batch(approved_letters(2, "warm-up"), certificate)  # fonts, Typst compiler, imports
    typed = timed_batch(approved_letters(args.letters, "typed"), None)
    print(f"typed-name batch: {typed:.1f} letters/s", flush=True)
    pades = timed_batch(approved_letters(args.letters, "pades"), certificate)
    print(f"PAdES B-B batch: {pades:.1f} letters/s", flush=True)
    print(json.dumps({
        "bench": "sign_batch", "letters": args.letters, "database": "sqlite",
        "pades_bb_batch_letters_per_s": round(pades, 1), "typed_name_batch_letters_per_s": round(typed, 1),
        "load_avg_1min": round(os.getloadavg()[0], 2),
    }))


if __name__ == "__main__":
    main()
