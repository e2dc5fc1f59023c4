"""Adoption over time from Saraban's own data, and server-drawn SVG charts of it (no JavaScript).

The series are monthly, in Bangkok time: agencies active (an organisation that created a letter or
registered one in its books that month), letters sent electronically (``Dispatch`` rows) and the share
of signatures made with a PKI certificate (``pades`` among all signatures; 0 % until PKI lands, and
shown as such). The charts are accessible: ``role="img"`` with ``<title>`` and ``<desc>``, every value
written as text, and the readiness levels told apart by pattern and label as well as by colour.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from django.utils import timezone

from saraban.core.thai import BANGKOK, THAI_MONTHS_ABBR, buddhist_year
from saraban.correspondence.models import Letter
from saraban.exchange.models import Dispatch
from saraban.registers.models import RegisterEntry
from saraban.signatures.models import Signature

PKI_METHOD = "pades"
BLUE = "#1c4f87"
# readiness levels: colour, SVG pattern id, and the pattern itself (so that colour is never the only cue)
LEVEL_STYLE = {
    "high": ("#1c4f87", "ro-solid"),
    "medium": ("#6fa8dc", "ro-hatch"),
    "low": ("#e8eef6", "ro-dots"),
}
PATTERNS = (
    '<defs>'
    '<pattern id="ro-solid" width="6" height="6" patternUnits="userSpaceOnUse">'
    '<rect width="6" height="6" fill="#1c4f87"/></pattern>'
    '<pattern id="ro-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
    '<rect width="6" height="6" fill="#a9cdee"/><line x1="0" y1="0" x2="0" y2="6" stroke="#3d85c6" stroke-width="3"/>'
    '</pattern>'
    '<pattern id="ro-dots" width="6" height="6" patternUnits="userSpaceOnUse">'
    '<rect width="6" height="6" fill="#f4f7fb"/><circle cx="3" cy="3" r="1.2" fill="#6f7f95"/></pattern>'
    '</defs>'
)


def month_label(month: dt.date) -> str:
    """A month as the axis writes it: "ม.ค. 70" (Thai abbreviation, the last two digits of พ.ศ.)."""
    return f"{THAI_MONTHS_ABBR[month.month - 1]} {buddhist_year(month.year) % 100:02d}"


def add_months(month: dt.date, n: int) -> dt.date:
    """The first day of the month ``n`` months after ``month``'s."""
    year, m = divmod(month.month - 1 + n, 12)
    return dt.date(month.year + year, m + 1, 1)


def last_months(until: dt.date, count: int = 12) -> list[dt.date]:
    """The first days of the ``count`` months ending with ``until``'s month, oldest first."""
    last = until.replace(day=1)
    return [add_months(last, i - count + 1) for i in range(count)]


def _start(month: dt.date) -> dt.datetime:
    return dt.datetime(month.year, month.month, 1, tzinfo=BANGKOK)


@dataclass
class Adoption:
    """Monthly adoption figures; lists run in step with ``months``."""

    months: list[dt.date]
    agencies_active: list[int] = field(default_factory=list)
    dispatches: list[int] = field(default_factory=list)
    signatures: list[int] = field(default_factory=list)
    pki_signatures: list[int] = field(default_factory=list)

    @property
    def pki_percent(self) -> list[float]:
        """The share of signatures made with a PKI certificate, in percent (0 with no signature)."""
        return [round(100 * p / s, 1) if s else 0.0 for p, s in zip(self.pki_signatures, self.signatures, strict=True)]

    @property
    def labels(self) -> list[str]:
        """The months as the axis writes them."""
        return [month_label(m) for m in self.months]


def adoption(until: dt.date | None = None, *, count: int = 12) -> Adoption:
    """The adoption series of the ``count`` months ending with ``until``'s month (default: this month)."""
    months = last_months(until or timezone.localdate(), count)
    lo, hi = _start(months[0]), _start(add_months(months[-1], 1))
    index = {(m.year, m.month): i for i, m in enumerate(months)}

    def slot(moment: dt.datetime) -> int | None:
        local = moment.astimezone(BANGKOK)
        return index.get((local.year, local.month))

    active: list[set[int]] = [set() for _ in months]
    for org_id, moment in Letter.objects.filter(created_at__gte=lo, created_at__lt=hi).values_list(
            "organisation_id", "created_at"):
        if (i := slot(moment)) is not None:
            active[i].add(org_id)
    for org_id, moment in RegisterEntry.objects.filter(registered_at__gte=lo, registered_at__lt=hi).values_list(
            "book__organisation_id", "registered_at"):
        if (i := slot(moment)) is not None:
            active[i].add(org_id)
    sent = [0] * len(months)
    for moment in Dispatch.objects.filter(sent_at__gte=lo, sent_at__lt=hi).values_list("sent_at", flat=True):
        if (i := slot(moment)) is not None:
            sent[i] += 1
    signed = [0] * len(months)
    pki = [0] * len(months)
    for method, moment in Signature.objects.filter(signed_at__gte=lo, signed_at__lt=hi).values_list(
            "method", "signed_at"):
        if (i := slot(moment)) is not None:
            signed[i] += 1
            pki[i] += method == PKI_METHOD
    return Adoption(months, [len(s) for s in active], sent, signed, pki)


def _fmt(value: float, unit: str = "") -> str:
    text = f"{value:,.1f}".rstrip("0").rstrip(".") if isinstance(value, float) else f"{value:,}"
    return f"{text}{unit}"


def _open(title: str, desc: str, width: int, height: int, slug: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'style="max-width:{width}px" role="img" aria-labelledby="{slug}-t {slug}-d" class="ro-chart" '
        f'font-family="Sarabun, sans-serif">',
        f'<title id="{slug}-t">{escape(title)}</title>',
        f'<desc id="{slug}-d">{escape(desc)}</desc>',
    ]


def bar_chart(title: str, labels: Sequence[str], values: Sequence[float], *, slug: str, unit: str = "",
              colour: str = BLUE, width: int = 560, height: int = 220, top: float | None = None) -> str:
    """A column chart: one bar per label, its value written above it, the labels under the axis."""
    desc = "; ".join(f"{label}: {_fmt(v, unit)}" for label, v in zip(labels, values, strict=True))
    rows = _open(title, desc, width, height, slug)
    left, right, head, foot = 8, 8, 22, 34
    plot_h = height - head - foot
    n = max(len(values), 1)
    step = (width - left - right) / n
    peak = top if top is not None else max(values, default=0) or 1
    base = head + plot_h
    rows.append(f'<line x1="{left}" y1="{base}" x2="{width - right}" y2="{base}" stroke="#555" stroke-width="1"/>')
    for i, (label, v) in enumerate(zip(labels, values, strict=True)):
        h = plot_h * (v / peak) if peak else 0
        x = left + i * step + step * 0.15
        w = step * 0.7
        rows.append(f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{colour}">'
                    f'<title>{escape(label)}: {escape(_fmt(v, unit))}</title></rect>')
        rows.append(f'<text x="{x + w / 2:.1f}" y="{base - h - 4:.1f}" text-anchor="middle" font-size="11" '
                    f'fill="#222">{escape(_fmt(v, unit))}</text>')
        rows.append(f'<text x="{x + w / 2:.1f}" y="{base + 15}" text-anchor="middle" font-size="10.5" '
                    f'fill="#333">{escape(label)}</text>')
    rows.append("</svg>")
    return "".join(rows)


def line_chart(title: str, labels: Sequence[str], values: Sequence[float], *, slug: str, unit: str = "",
               top: float = 100, width: int = 560, height: int = 220, note: str = "") -> str:
    """A line over the months with a marker and the value written at every point (a fixed 0–``top`` axis)."""
    desc = "; ".join(f"{label}: {_fmt(v, unit)}" for label, v in zip(labels, values, strict=True))
    if note:
        desc = f"{note} {desc}"
    rows = _open(title, desc, width, height, slug)
    left, right, head, foot = 36, 8, 22, 34
    plot_h = height - head - foot
    base = head + plot_h
    n = max(len(values), 1)
    step = (width - left - right) / n
    for frac in (0, 0.5, 1):
        y = base - plot_h * frac
        rows.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#ccc" '
                    f'stroke-width="{1 if frac == 0 else 0.5}"/>')
        rows.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10" fill="#555">'
                    f'{escape(_fmt(top * frac, unit))}</text>')
    points = []
    for i, (label, v) in enumerate(zip(labels, values, strict=True)):
        x = left + i * step + step / 2
        y = base - plot_h * min(v, top) / top
        points.append((x, y, label, v))
    if points:
        rows.append('<polyline fill="none" stroke="#1c4f87" stroke-width="2" points="'
                    + " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points) + '"/>')
    for x, y, label, v in points:
        rows.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="#fff" stroke="#1c4f87" stroke-width="2">'
                    f'<title>{escape(label)}: {escape(_fmt(v, unit))}</title></circle>')
        rows.append(f'<text x="{x:.1f}" y="{y - 7:.1f}" text-anchor="middle" font-size="11" fill="#222">'
                    f'{escape(_fmt(v, unit))}</text>')
        rows.append(f'<text x="{x:.1f}" y="{base + 15}" text-anchor="middle" font-size="10.5" fill="#333">'
                    f'{escape(label)}</text>')
    if note:
        rows.append(f'<text x="{left + 4}" y="{head - 6}" font-size="11" fill="#7a5a00">{escape(note)}</text>')
    rows.append("</svg>")
    return "".join(rows)


def readiness_chart(title: str, rows_in: Sequence[tuple[str, dict[str, int]]], level_labels: dict[str, str], *,
                    slug: str = "readiness", width: int = 560) -> str:
    """Horizontal 100 % bars: one per kind of agency, split by readiness level (pattern, colour and number)."""
    levels = list(LEVEL_STYLE)
    desc = "; ".join(f"{name}: " + ", ".join(f"{level_labels[lv]} {counts.get(lv, 0)}" for lv in levels)
                     for name, counts in rows_in)
    bar_h, gap, label_w, head = 22, 50, 8, 34
    height = head + len(rows_in) * (bar_h + gap) + 6
    out = _open(title, desc, width, height, slug)
    out.append(PATTERNS)
    x = 8.0
    for lv in levels:  # the legend, with the same patterns
        _, pattern = LEVEL_STYLE[lv]
        out.append(f'<rect x="{x:.1f}" y="6" width="14" height="12" fill="url(#{pattern})" stroke="#555" '
                   f'stroke-width="0.6"/>'
                   f'<text x="{x + 18:.1f}" y="16" font-size="11">{escape(level_labels[lv])}</text>')
        x += 30 + 11 * len(level_labels[lv]) * 0.62
    plot_w = width - label_w - 60
    for i, (name, counts) in enumerate(rows_in):
        y = head + i * (bar_h + gap)
        total = sum(counts.values())
        out.append(f'<text x="8" y="{y + 13}" font-size="13" font-weight="bold">{escape(name)}</text>')
        y += 18
        cx = float(label_w)
        for lv in levels:
            n = counts.get(lv, 0)
            if not n:
                continue
            w = plot_w * n / (total or 1)
            _, pattern = LEVEL_STYLE[lv]
            out.append(f'<rect x="{cx:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="url(#{pattern})" '
                       f'stroke="#fff" stroke-width="1"><title>{escape(name)} · {escape(level_labels[lv])}: {n}'
                       f'</title></rect>')
            ink = "#fff" if lv == "high" else "#111"
            if w >= 22:
                out.append(f'<text x="{cx + w / 2:.1f}" y="{y + 15}" text-anchor="middle" font-size="11" '
                           f'fill="{ink}" font-weight="bold">{n}</text>')
            cx += w
        out.append(f'<text x="{cx + 6:.1f}" y="{y + 15}" font-size="11" fill="#222">รวม {total}</text>')
        small = [f"{level_labels[lv]} {counts.get(lv, 0)}" for lv in levels]
        out.append(f'<text x="{label_w}" y="{y + bar_h + 13}" font-size="10" fill="#555">'
                   f'{escape(" · ".join(small))}</text>')
    out.append("</svg>")
    return "".join(out)


def readiness_by_category() -> dict[str, dict[str, int]]:
    """Agencies that answered the current survey: category → readiness level → count."""
    from . import selectors

    table = selectors.group_table()
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for row in table.rows:
        counts[row.category][row.level] = counts[row.category].get(row.level, 0) + row.size
    return dict(counts)
