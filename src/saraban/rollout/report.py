"""The quarterly progress report for the working group's meeting: its figures, a Thai PDF and an XLSX.

Quarters are those of the Thai government's fiscal year, which starts on 1 October: quarter 1 of
fiscal year 2570 is October–December 2569 (2026), quarter 4 is July–September 2570. The report is
drawn up "as of" the quarter's last day, or today while the quarter is still running.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from saraban.core.labels import pair
from saraban.core.thai import THAI_MONTHS, THAI_MONTHS_ABBR, buddhist_year, gregorian_year
from saraban.directory.models import Organisation, OrganisationKind, ProgrammeCategory, Province

from . import charts, selectors
from .models import (
    BudgetSource,
    EventInvitation,
    FundApplication,
    FundStatus,
    InfrastructureSupport,
    Need,
    OutreachActivity,
    Participant,
    ReadinessLevel,
    RequestStatus,
    RoadshowEvent,
    SupportRequest,
)

QUARTER_PATTERN = re.compile(r"^(\d{4})-([1-4])$")


def _th(label: Any) -> str:
    return pair(label)[0]


@dataclass(frozen=True)
class Quarter:
    """A quarter of a Thai fiscal year: ``fiscal_year`` in พ.ศ., ``number`` 1–4."""

    fiscal_year: int
    number: int

    @property
    def start(self) -> dt.date:
        """The first day: 1 October of the previous calendar year for quarter 1."""
        year = gregorian_year(self.fiscal_year) - 1
        month = 10 + 3 * (self.number - 1)
        return dt.date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)

    @property
    def end(self) -> dt.date:
        """The last day of the quarter."""
        return charts.add_months(self.start, 3) - dt.timedelta(days=1)

    @property
    def code(self) -> str:
        """The form used in URLs, e.g. "2570-1"."""
        return f"{self.fiscal_year}-{self.number}"

    @property
    def months(self) -> list[dt.date]:
        """The first days of the quarter's three months."""
        return [charts.add_months(self.start, i) for i in range(3)]

    @property
    def label(self) -> str:
        """"ไตรมาสที่ 1 ปีงบประมาณ พ.ศ. 2570"."""
        return f"ไตรมาสที่ {self.number} ปีงบประมาณ พ.ศ. {self.fiscal_year}"

    @property
    def span(self) -> str:
        """"ตุลาคม – ธันวาคม 2569"."""
        a, b = self.start, self.end
        first = f"{THAI_MONTHS[a.month - 1]} {buddhist_year(a.year)}"
        return f"{first} – {THAI_MONTHS[b.month - 1]} {buddhist_year(b.year)}"

    def previous(self) -> Quarter:
        """The quarter before this one."""
        return Quarter(self.fiscal_year - 1, 4) if self.number == 1 else Quarter(self.fiscal_year, self.number - 1)


def quarter_of(day: dt.date) -> Quarter:
    """The fiscal quarter that contains ``day``."""
    fiscal = buddhist_year(day.year) + (1 if day.month >= 10 else 0)
    return Quarter(fiscal, ((day.month - 10) % 12) // 3 + 1)


def parse_quarter(code: str | None, *, today: dt.date | None = None) -> Quarter:
    """``"2570-1"`` → that quarter; empty → the current one. Raises ``ValueError`` on anything else."""
    if not code:
        return quarter_of(today or timezone.localdate())
    match = QUARTER_PATTERN.match(code.strip())
    if match is None or not 2400 <= int(match.group(1)) <= 2700:
        raise ValueError(f"not a quarter: {code!r}")
    return Quarter(int(match.group(1)), int(match.group(2)))


def recent_quarters(today: dt.date | None = None, count: int = 8) -> list[Quarter]:
    """The current quarter and the ``count - 1`` before it, newest first."""
    q = quarter_of(today or timezone.localdate())
    out = [q]
    while len(out) < count:
        out.append(out[-1].previous())
    return out


def available_quarters(today: dt.date | None = None) -> list[Quarter]:
    """The quarters to choose from, newest first: back to the programme's first data (at least 4, at most 40)."""
    from django.db.models import Min

    firsts = [
        RoadshowEvent.objects.aggregate(m=Min("date"))["m"],
        Participant.objects.aggregate(m=Min("ready_on"))["m"],
        OutreachActivity.objects.aggregate(m=Min("starts_on"))["m"],
    ]
    known = [d for d in firsts if d is not None]
    quarters = recent_quarters(today, 40)
    if not known:
        return quarters[:4]
    oldest = quarter_of(min(known))
    keep = [q for q in quarters if (q.fiscal_year, q.number) >= (oldest.fiscal_year, oldest.number)]
    return keep if len(keep) >= 4 else quarters[:4]


def thai_date(day: dt.date | None) -> str:
    """"14 ธ.ค. 2565" (Arabic digits, no-break spaces, as tables have them); "–" for none."""
    if day is None:
        return "–"
    return f"{day.day}\u00a0{THAI_MONTHS_ABBR[day.month - 1]}\u00a0{buddhist_year(day.year)}"


def baht(amount: Decimal | int | float) -> str:
    """"12,500" (whole baht)."""
    return f"{Decimal(amount):,.0f}"


@dataclass
class Table:
    """One table of the report: a key (its sheet), title, headers, rows, column widths (characters)."""

    key: str
    title: str
    headers: list[str]
    rows: list[list[Any]]
    widths: list[int]
    note: str = ""
    numeric: list[int] = field(default_factory=list)  # columns right-aligned

    def as_data(self) -> dict[str, Any]:
        """The table for the Typst template (every cell as text)."""
        return {"key": self.key, "title": self.title, "headers": self.headers, "note": self.note,
                "rows": [[_cell(c) for c in r] for r in self.rows], "widths": self.widths, "numeric": self.numeric}


    def html_rows(self, limit: int = 25) -> list[list[tuple[str, bool]]]:
        """The first ``limit`` rows for the web page: (text, right-aligned) per cell."""
        return [[(_cell(c), i in self.numeric) for i, c in enumerate(r)] for r in self.rows[:limit]]


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "ใช่" if value else "–"
    if isinstance(value, Decimal):
        return baht(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return "" if value is None else str(value)


@dataclass
class Report:
    """Everything the quarterly report says."""

    quarter: Quarter
    as_of: dt.date
    headline: list[tuple[str, str]]
    tables: list[Table]
    adoption: charts.Adoption
    readiness: list[tuple[str, dict[str, int]]]

    @property
    def title(self) -> str:
        """The heading of the report."""
        return f"รายงานความก้าวหน้าการขับเคลื่อนการใช้ระบบ e-Document {self.quarter.label}"

    @property
    def as_of_th(self) -> str:
        """The date the figures stand at, in Thai."""
        return thai_date(self.as_of)

    def table(self, key: str) -> Table:
        """The table ``key``."""
        return next(t for t in self.tables if t.key == key)


def build_report(quarter: Quarter, *, today: dt.date | None = None) -> Report:
    """Gather the report of ``quarter`` from the console's data and Saraban's own."""
    now = today or timezone.localdate()
    as_of = min(now, quarter.end)
    labels = {
        "category": {c.value: _th(c.label) for c in ProgrammeCategory},
        "level": {v.value: _th(v.label) for v in ReadinessLevel},
        "need": {n.value: _th(n.label) for n in Need},
    }
    group_table = selectors.group_table()
    tables = [
        _readiness_table(group_table, labels),
        _needs_table(group_table, labels),
        _lapse_table(as_of),
        _fund_table(),
        _roadshow_table(quarter),
        _overlap_table(),
    ]
    series = charts.adoption(as_of)
    tables.append(_adoption_table(series, quarter))
    readiness: dict[str, dict[str, int]] = {}
    for row in group_table.rows:
        readiness.setdefault(row.category, {})[row.level] = row.size
    chart_rows = [(labels["category"][c], readiness[c]) for c in selectors.CATEGORY_ORDER if c in readiness]
    board = selectors.dashboard(as_of)
    lapses = [r for r in selectors.certificate_lapses(as_of) if r.without_budget]
    in_quarter = slice(len(series.months) - sum(m >= quarter.start for m in series.months), None)
    headline = [
        ("หน่วยงานที่พร้อมเข้าร่วม", f"{board.ready:,} แห่ง"),
        ("ตอบแบบสำรวจความพร้อม", f"{group_table.total:,} แห่ง"),
        ("อปท. ในพื้นที่นำร่อง", f"{board.pilot:,} แห่ง"),
        ("ใช้ระบบ Saraban แล้ว / ส่งหนังสืออิเล็กทรอนิกส์ฉบับแรกแล้ว", f"{board.onboarded:,} / {board.first_letter:,} แห่ง"),
        ("หนังสือที่ส่งทางอิเล็กทรอนิกส์ในไตรมาส", f"{sum(series.dispatches[in_quarter]):,} ฉบับ"),
        ("ใบรับรองที่จะหมดอายุโดยไม่มีงบประมาณ (12 เดือน)",
         f"{len(lapses):,} ใบ ({len({r.organisation.pk for r in lapses}):,} หน่วยงาน)"),
        ("คำขอกองทุนดีอีที่อนุมัติแล้ว", f"{board.funds.get(FundStatus.APPROVED, 0):,} คำขอ "
                                       f"{baht(board.fund_amount_approved)} บาท"),
        ("กิจกรรมประชาสัมพันธ์ที่ซ้ำซ้อน", f"{board.overlaps:,} คู่"),
    ]
    return Report(quarter, as_of, headline, tables, series, chart_rows)


def _readiness_table(group_table: selectors.GroupTable, labels: dict[str, dict[str, str]]) -> Table:
    needs = group_table.needs
    rows: list[list[Any]] = []
    for r in group_table.rows:
        counts = {n: c for n, c, _ in r.needs}
        rows.append([labels["category"][r.category], labels["level"][r.level], r.size,
                     *[counts.get(n, 0) for n in needs]])
    total = [sum(r[3 + i] for r in rows) for i in range(len(needs))]
    rows.append(["รวม", "", sum(r[2] for r in rows), *total])
    short = {"certificates": "ใบรับรองฯ", "system": "ระบบ/เครื่องมือ", "training": "ฝึกอบรม",
             "infrastructure": "โครงสร้างพื้นฐาน", "budget": "งบประมาณ"}
    return Table("readiness", "ความพร้อมและความต้องการรายกลุ่มหน่วยงาน",
                 ["กลุ่มหน่วยงาน", "ระดับความพร้อม", "จำนวน (แห่ง)", *[f"ต้องการ{short.get(n, n)}" for n in needs]],
                 rows, [30, 17, 10, *[12] * len(needs)],
                 note="จำนวนหน่วยงานที่ตอบแบบสำรวจ จัดกลุ่มตามประเภทและระดับความพร้อมตามเกณฑ์ที่กำหนด "
                      "และจำนวนหน่วยงานที่ระบุความต้องการแต่ละด้าน",
                 numeric=list(range(2, 3 + len(needs))))


def _needs_table(group_table: selectors.GroupTable, labels: dict[str, dict[str, str]]) -> Table:
    status_counts: dict[tuple[str, str], int] = {
        (n, s): c for n, s, c in SupportRequest.objects.values_list("need", "status").annotate(c=Count("pk"))
        .values_list("need", "status", "c")}
    rows: list[list[Any]] = []
    for need in group_table.needs:
        signalled = sum(c for r in group_table.rows for n, c, _ in r.needs if n == need)
        providers = sorted({p for r in group_table.rows for n, _, ps in r.needs if n == need for p in ps}) or [
            code for code, p in group_table.providers.items() if need in p.needs]
        names = ", ".join(group_table.providers[c].short_name or group_table.providers[c].name_th for c in providers)
        waiting = status_counts.get((need, RequestStatus.OPEN), 0)
        working = sum(status_counts.get((need, s), 0) for s in (RequestStatus.ASSIGNED, RequestStatus.IN_PROGRESS))
        done = status_counts.get((need, RequestStatus.DONE), 0)
        rows.append([labels["need"][need], signalled, names or "ยังไม่มีผู้สนับสนุน", waiting, working, done])
    return Table("needs", "ความต้องการและหน่วยงานผู้ให้การสนับสนุน",
                 ["ความต้องการ", "หน่วยงานที่ต้องการ (แห่ง)", "ผู้ให้การสนับสนุน", "คำขอรอจับคู่",
                  "กำลังดำเนินการ", "เสร็จแล้ว"],
                 rows, [30, 14, 40, 12, 14, 10], numeric=[1, 3, 4, 5])


def _lapse_table(as_of: dt.date) -> Table:
    rows = [r for r in selectors.certificate_lapses(as_of) if r.without_budget]
    provinces = dict(Province.objects.values_list("code", "name_th"))
    fund = {s.value: _th(s.label) for s in FundStatus}
    out: list[list[Any]] = []
    for r in rows:
        c = r.certificate
        out.append([r.organisation.name_th, provinces.get(r.organisation.province_id or "", "–"), c.provider,
                    thai_date(c.expires_on), r.days_left, c.yearly_cost,
                    f"คำขอกองทุน{fund[r.fund_status]}" if r.fund_status else "ไม่มีงบประมาณ"])
    cost = sum((r.certificate.yearly_cost for r in rows), Decimal(0))
    return Table("lapses", "ใบรับรองอิเล็กทรอนิกส์ที่จะหมดอายุโดยไม่มีงบประมาณต่ออายุ (12 เดือนข้างหน้า)",
                 ["หน่วยงาน", "จังหวัด", "ผู้ให้บริการ (CA)", "วันหมดอายุ", "อีก (วัน)", "ค่าเช่ารายปี (บาท)",
                  "สถานะงบประมาณ"], out, [44, 16, 15, 16, 8, 13, 20],
                 note=f"ณ วันที่ {thai_date(as_of)}: {len(rows):,} ใบ ของ {len({r.organisation.pk for r in rows}):,} "
                      f"หน่วยงาน ค่าเช่ารวม {baht(cost)} บาทต่อปี",
                 numeric=[4, 5])


def _fund_table() -> Table:
    apps = FundApplication.objects.select_related("organisation").order_by("status", "-amount", "pk")
    status = {s.value: _th(s.label) for s in FundStatus}
    order = [FundStatus.APPROVED, FundStatus.SUBMITTED, FundStatus.DRAFTED, FundStatus.REJECTED]
    rows: list[list[Any]] = []
    counts: Counter[str] = Counter()
    amounts: dict[str, Decimal] = {}
    for a in sorted(apps, key=lambda a: (order.index(FundStatus(a.status)), -a.amount, a.pk)):
        counts[a.status] += 1
        amounts[a.status] = amounts.get(a.status, Decimal(0)) + a.amount
        rows.append([a.organisation.name_th, a.purpose, a.amount, status[a.status], thai_date(a.submitted_on),
                     thai_date(a.decided_on)])
    summary = ", ".join(f"{status[s]} {counts[s]:,} คำขอ ({baht(amounts.get(s, 0))} บาท)" for s in order if counts[s])
    fund_label = _th(BudgetSource.DE_FUND.label)
    return Table("funds", f"คำขอรับการสนับสนุนจาก{fund_label}",
                 ["หน่วยงาน", "วัตถุประสงค์", "วงเงิน (บาท)", "สถานะ", "วันที่ยื่น", "วันที่พิจารณา"],
                 rows, [40, 38, 12, 11, 14, 14], note=summary or "ยังไม่มีคำขอ", numeric=[2])


def _roadshow_table(quarter: Quarter) -> Table:
    events = list(RoadshowEvent.objects.filter(date__lte=quarter.end)
                  .select_related("province", "partner", "roadshow").order_by("date", "pk"))
    invited: dict[int, dict[str, int]] = {
        e["event_id"]: {"n": e["n"], "came": e["came"]}
        for e in EventInvitation.objects.filter(event__in=events).values("event_id").annotate(
            n=Count("pk"), came=Count("pk", filter=Q(attended=True)))}
    support = {s.value: _th(s.label) for s in InfrastructureSupport}
    rows: list[list[Any]] = []
    for e in events:
        guests = list(EventInvitation.objects.filter(event=e, attended=True).values_list("organisation_id", flat=True))
        follow = selectors.follow_up(guests)
        where = "ออนไลน์" if e.online else e.place
        province = f"จ.{e.province.name_th}" if e.province else ""
        rows.append([thai_date(e.date), f"{province} · {where}" if province else where,
                     e.partner.name_th if e.partner else "–", support.get(e.infrastructure_support, "") or "–",
                     invited.get(e.pk, {}).get("n", 0), invited.get(e.pk, {}).get("came", 0),
                     sum(f.onboarded for f in follow.values()),
                     sum(f.first_letter_at is not None for f in follow.values()),
                     "ไตรมาสนี้" if e.date >= quarter.start else "สะสม"])
    if rows:
        rows.append(["รวม", "", "", "", *[sum(r[i] for r in rows) for i in range(4, 8)], ""])
    return Table("roadshow", "โรดโชว์ ผู้เข้าร่วม และการติดตามผล (สะสมถึงสิ้นไตรมาส)",
                 ["วันที่", "จังหวัดและสถานที่", "ภาคีร่วมจัด", "สนับสนุนโครงสร้างพื้นฐาน", "เชิญ (แห่ง)",
                  "เข้าร่วม (แห่ง)", "ใช้ Saraban แล้ว", "ส่งหนังสือฉบับแรกแล้ว", "ช่วงเวลา"],
                 rows, [17, 34, 31, 17, 9, 10, 11, 12, 10], numeric=[4, 5, 6, 7],
                 note="การติดตามผลคำนวณจากข้อมูลของระบบ Saraban: ผู้ใช้ที่ได้รับบทบาทในหน่วยงาน "
                      "และหนังสือที่ส่งทางอิเล็กทรอนิกส์")


def _overlap_table() -> Table:
    overlaps = selectors.outreach_overlaps()
    provinces = dict(Province.objects.values_list("code", "name_th"))
    kinds = {k: _th(v) for k, v in Organisation._meta.get_field("kind").flatchoices}
    lao_kinds = {k.value for k in OrganisationKind.lao_kinds()}
    rows: list[list[Any]] = []
    for o in overlaps:
        if not o.kinds:
            whom = "ทุกประเภท"
        elif set(o.kinds) >= lao_kinds:
            whom = ", ".join(["อปท. ทุกรูปแบบ", *(kinds.get(k, k) for k in sorted(set(o.kinds) - lao_kinds))])
        else:
            whom = ", ".join(kinds.get(k, k) for k in sorted(o.kinds))
        where = ", ".join(provinces.get(c, c) for c in sorted(o.provinces)) or (
            "ทั่วประเทศ" if not o.regions else ", ".join(sorted(o.regions)))
        host, guest = o.host, o.guest
        rows.append([f"{host.owner}: {host.title} ({thai_date(host.starts_on)} – {thai_date(host.ends_on)})",
                     f"{guest.owner}: {guest.title} ({thai_date(guest.starts_on)} – {thai_date(guest.ends_on)})",
                     f"{whom}\nพื้นที่: {where}", o.gap_days, o.proposal_th])
    return Table("overlaps", "กิจกรรมประชาสัมพันธ์ที่เข้าถึงกลุ่มเป้าหมายเดียวกัน และข้อเสนอการบูรณาการ",
                 ["กิจกรรม (เจ้าภาพ)", "กิจกรรมที่ซ้ำซ้อน", "กลุ่มเป้าหมายและพื้นที่ที่ซ้ำ", "ห่างกัน (วัน)",
                  "ข้อเสนอ"], rows, [44, 44, 30, 9, 44], numeric=[3],
                 note=f"ช่วงเวลาที่ถือว่าซ้ำซ้อน: ภายใน {selectors.overlap_window()} วัน")


def _adoption_table(series: charts.Adoption, quarter: Quarter) -> Table:
    rows: list[list[Any]] = []
    for month, active, sent, signed, pki, share in zip(
            series.months, series.agencies_active, series.dispatches, series.signatures, series.pki_signatures,
            series.pki_percent, strict=True):
        mark = " *" if month >= quarter.start else ""
        rows.append([f"{THAI_MONTHS[month.month - 1]} {buddhist_year(month.year)}{mark}", active, sent, signed, pki,
                     f"{share:.1f}%"])
    return Table("adoption", "การใช้งานระบบ e-Document จากข้อมูลของระบบ Saraban (12 เดือน)",
                 ["เดือน", "หน่วยงานที่ใช้งาน (แห่ง)", "หนังสือส่งทางอิเล็กทรอนิกส์ (ฉบับ)", "ลายมือชื่อทั้งหมด",
                  "ลายมือชื่อดิจิทัล (PKI)", "สัดส่วน PKI"], rows, [18, 16, 22, 14, 16, 12],
                 numeric=[1, 2, 3, 4, 5],
                 note="* เดือนในไตรมาสนี้ หน่วยงานที่ใช้งาน = สร้างหรือลงทะเบียนหนังสืออย่างน้อย 1 ฉบับในเดือนนั้น; "
                      "ลายมือชื่อดิจิทัล (PKI) = ลงนามแบบ PAdES ด้วยใบรับรองอิเล็กทรอนิกส์")


def report_data(report: Report) -> dict[str, Any]:
    """The JSON the Typst template lays out."""
    from saraban.rendering.fonts import sizes

    a = report.adoption
    return {
        "title": report.title, "quarter": report.quarter.label, "span": report.quarter.span,
        "as_of": thai_date(report.as_of), "generated": thai_date(timezone.localdate()),
        "sizes": sizes(), "headline": [list(h) for h in report.headline],
        "tables": [t.as_data() for t in report.tables],
        "charts": {
            "months": a.labels, "dispatches": a.dispatches, "active": a.agencies_active, "pki": a.pki_percent,
            "readiness": [{"name": name, "high": c.get("high", 0), "medium": c.get("medium", 0),
                           "low": c.get("low", 0)} for name, c in report.readiness],
            "levels": [_th(v.label) for v in ReadinessLevel],
        },
    }


def report_pdf(report: Report) -> bytes:
    """The report as a Thai A4 PDF (Typst, Sarabun), with its text layer repaired for search and copy."""
    from saraban.rendering.engine import compile_pdf
    from saraban.rendering.textlayer import repair_text_layer

    return repair_text_layer(compile_pdf("programme_report", report_data(report)))


def report_xlsx(report: Report) -> bytes:
    """The report as a workbook: a summary sheet, then one sheet per table (Thai headers, frozen, widths).

    Every cell is a value, never a formula (``saraban.core.spreadsheets.set_cell``).
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.worksheet import Worksheet

    from saraban.core.spreadsheets import set_cell

    book = Workbook()
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDE6F0")
    summary = book.active
    assert summary is not None
    summary.title = "สรุป"

    def append(sheet: Worksheet, values: list[Any]) -> None:
        # Every cell through ``set_cell``: a purpose typed as "=1+1" stays text, never a formula.
        sheet.append([set_cell(WriteOnlyCell(sheet), float(v) if isinstance(v, Decimal) else v) for v in values])

    append(summary, [report.title])
    summary["A1"].font = Font(bold=True, size=14)
    append(summary, [f"{report.quarter.span} · ข้อมูล ณ วันที่ {thai_date(report.as_of)}"])
    summary.append([])
    append(summary, ["รายการ", "ผล"])
    for cell in summary[4]:
        cell.font, cell.fill = bold, fill
    for label, value in report.headline:
        append(summary, [label, value])
    summary.column_dimensions["A"].width = 60
    summary.column_dimensions["B"].width = 36
    summary.freeze_panes = "A5"
    names = {"readiness": "ความพร้อมรายกลุ่ม", "needs": "ความต้องการและผู้สนับสนุน", "lapses": "ใบรับรองไม่มีงบ",
             "funds": "กองทุนดีอี", "roadshow": "โรดโชว์", "overlaps": "กิจกรรมซ้ำซ้อน", "adoption": "การใช้งาน"}
    for table in report.tables:
        sheet = book.create_sheet(names.get(table.key, table.key)[:31])
        append(sheet, table.headers)
        for cell in sheet[1]:
            cell.font, cell.fill = bold, fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in table.rows:
            append(sheet, row)
        for i, width in enumerate(table.widths, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = width
        for i in table.numeric:
            if table.key != "adoption" or i != 5:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=i + 1, max_col=i + 1):
                    cell.number_format = "#,##0"
        sheet.freeze_panes = "A2"
        if table.note:
            sheet.append([])
            append(sheet, [table.note])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

