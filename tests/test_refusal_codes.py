"""Every refusal code of the access rules: one constant each, unique, in Thai and English, with its status."""

from __future__ import annotations

import re
import string
from pathlib import Path

from saraban.access import refusals
from saraban.core.errors import NotFound, PermissionRefused, Refusal, StateRefused

SRC = Path(__file__).resolve().parents[1] / "src" / "saraban"
THAI = re.compile(r"[\u0e00-\u0e7f]")

# Every code, by the status it answers with. A new refusal is added here on purpose.
CODES = {
    404: {"not_found"},
    403: {
        "letter.not_drafter", "letter.not_author", "letter.not_author_or_central_registry", "letter.not_registry",
        "letter.not_signer", "review.not_your_turn", "incoming.not_registry", "incoming.not_registry_or_executive",
        "incoming.not_executive", "assignment.not_yours",
    },
    409: {
        "letter.wrong_state", "letter.not_editable", "letter.fixed_after_numbering", "letter.stamped_not_signed",
        "letter.not_numberable", "letter.already_numbered", "letter.top_secret_paper_only", "letter.no_recipients",
        "letter.not_cancellable", "letter.not_correctable", "letter.signing_in_progress",
        "letter.number_reservation_lost", "letter.correction_exists", "incoming.wrong_state",
        "incoming.open_assignments", "assignment.done",
    },
}


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_code_is_listed_once_with_thai_and_english_and_its_status() -> None:
    found = refusals.all_refusals()
    codes = [r.code for r in found]
    assert len(codes) == len(set(codes)), [c for c in codes if codes.count(c) > 1]
    assert {r.http_status: set() for r in found}.keys() <= CODES.keys()
    assert {status: {r.code for r in found if r.http_status == status} for status in CODES} == CODES
    for refusal in found:
        assert refusal.kind in (PermissionRefused, StateRefused, NotFound), refusal.code
        assert THAI.search(refusal.message_th), refusal.code
        assert refusal.message_en.strip() and not THAI.search(refusal.message_en), refusal.code
        assert _fields(refusal.message_th) == _fields(refusal.message_en), refusal.code
        filled = refusal.format(**{name: ("ไทย", "English") for name in _fields(refusal.message_th)})
        error = filled.error()
        assert (error.code, error.http_status) == (refusal.code, refusal.http_status)
        assert "{" not in error.message_th + error.message_en, refusal.code


def test_the_workflow_codes_are_written_nowhere_else() -> None:
    """No service, view or router spells a code of these rules: they use the constants."""
    known = {r.code for r in refusals.all_refusals()}
    literal = re.compile(r"""["']([a-z_]+\.[a-z_]+)["']""")
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.name == "refusals.py" or "migrations" in path.parts:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            offenders += [f"{path.relative_to(SRC)}:{number}: {c}" for c in literal.findall(line) if c in known]
    assert not offenders, offenders


def test_a_formatted_refusal_is_still_its_constant() -> None:
    filled = refusals.LETTER_WRONG_STATE.format(action=("ลงนาม", "sign"), state=("ร่าง", "Draft"))
    assert filled == refusals.LETTER_WRONG_STATE and filled.message_en == "Cannot sign: the letter is “Draft”"
    assert filled.message_th == "ลงนามไม่ได้ เพราะหนังสืออยู่ในสถานะ “ร่าง”"
    assert isinstance(filled, Refusal) and filled.error().http_status == 409
