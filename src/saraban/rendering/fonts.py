"""Fonts and type sizes of rendered documents.

Official practice is TH Sarabun PSK (or TH SarabunIT๙) at 16 pt. Saraban ships Google's Sarabun
(``fontpkg-sarabun``), whose glyphs are drawn about 1.465 times larger on the em than TH Sarabun's,
so every size below is the TH Sarabun size divided by ``TH_SARABUN_SCALE``: the printed letters then
look the size a clerk expects.
"""

from __future__ import annotations

import functools
from pathlib import Path

import fontpkg_sarabun

FONT_FAMILY = "Sarabun"
FONT_DIR = Path(fontpkg_sarabun.ROOT) / "files"

# Google's Sarabun at N pt looks like TH Sarabun at N * 1.465 pt.
TH_SARABUN_SCALE = 1.465


def th_sarabun_pt(size: float) -> float:
    """The Sarabun size (pt) that looks like TH Sarabun at ``size`` pt."""
    return round(size / TH_SARABUN_SCALE, 2)


# Body text: TH Sarabun 16 pt, the official practice (≈ 10.92 pt Sarabun).
BODY_PT = th_sarabun_pt(16)
# Urgency and secrecy marks: red, bold, at least 32 pt TH Sarabun (≈ 21.84 pt).
MARK_PT = th_sarabun_pt(32)
# The "บันทึกข้อความ" heading of an internal memo: 29 pt TH Sarabun, bold.
MEMO_HEADING_PT = th_sarabun_pt(29)
# Titles of orders, announcements and regulations ("คำสั่ง…", "ประกาศ…"): 16 pt bold, as the body.
TITLE_PT = th_sarabun_pt(16)
# Registers are tabular and dense: 14 pt TH Sarabun.
REGISTER_PT = th_sarabun_pt(14)


def sizes() -> dict[str, float]:
    """The sizes passed to the Typst templates, in points."""
    return {
        "body": BODY_PT,
        "mark": MARK_PT,
        "memo_heading": MEMO_HEADING_PT,
        "title": TITLE_PT,
        "register": REGISTER_PT,
    }


@functools.cache
def printable_codepoints() -> frozenset[int]:
    """The characters every weight of Sarabun used in letters can draw (regular and bold).

    Typst stops with an error when a PDF/A document needs a glyph its fonts lack, so letters may
    hold only these (plus the line breaks and tabs the layout handles itself).
    """
    from fontTools.ttLib import TTFont

    covered: frozenset[int] | None = None
    for name in ("Sarabun-Regular.ttf", "Sarabun-Bold.ttf"):
        cmap = TTFont(str(FONT_DIR / name), lazy=True).getBestCmap() or {}
        covered = frozenset(cmap) if covered is None else covered & frozenset(cmap)
    return covered or frozenset()
