"""The text-layer repair silences exactly the repeated raised-mark runs, nothing else."""

from __future__ import annotations

from saraban.rendering.textlayer import dedupe_stream

FONTS = {"f0": {5: "ตั้", 8: "ทั้", 1: "ด่"}}


def test_a_raised_mark_run_repeating_its_syllable_is_silenced() -> None:
    stream = (
        b"BT/Span<</ActualText<FEFF0E150E310E49>>>BDC 0 Tr/f0 12 Tf 1 0 0 -1 0 0 Tm[(\\000\\001)10(\\000\\004)]TJ\n"
        b"EMC\nET\nBT 0 Tr/f0 12 Tf 1 0 0 -1 0 0 Tm[19(\\000\\005)]TJ\nET\n"
    )
    fixed, count = dedupe_stream(stream, FONTS)
    assert count == 1
    assert b"/Span<</ActualText()>>BDC [19(\\000\\005)]TJ EMC" in fixed


def test_a_repeated_mark_span_is_emptied() -> None:
    span = b"/Span<</ActualText<FEFF0E170E310E49>>>BDC 0 Tr/f0 12 Tf 1 0 0 -1 0 0 Tm"
    stream = span + b"[(\\000\\b)10(\\000\\004)]TJ\nEMC\nET\nBT" + span + b"[19(\\000\\005)]TJ\nEMC\n"
    fixed, count = dedupe_stream(stream, FONTS)
    assert count == 1 and fixed.count(b"ActualText()") == 1 and fixed.count(b"0E170E310E49") == 1


def test_the_same_syllable_in_two_places_is_left_alone() -> None:
    # "ด่วนมาก" then "ด่วนภายใน": two spans with the same text, each drawing two glyphs.
    span = b"/Span<</ActualText<FEFF0E140E48>>>BDC 0 Tr/f0 21 Tf 1 0 0 -1 0 0 Tm[(\\000\\001)10(\\000\\002)]TJ\nEMC\n"
    fixed, count = dedupe_stream(span + b"ET\nQ\nBT" + span, FONTS)
    assert count == 0 and fixed == span + b"ET\nQ\nBT" + span
