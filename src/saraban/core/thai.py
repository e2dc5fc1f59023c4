"""Thai dates (พุทธศักราช) and Thai digits, as official letters write them."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

BANGKOK = ZoneInfo("Asia/Bangkok")
BUDDHIST_ERA_OFFSET = 543

THAI_MONTHS = (
    "มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน",
    "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม",
)
THAI_MONTHS_ABBR = (
    "ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.",
    "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.",
)
_TO_THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")
_TO_ARABIC_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")


def thai_digits(text: str) -> str:
    """Write the Arabic digits of ``text`` as Thai digits (๐–๙)."""
    return text.translate(_TO_THAI_DIGITS)


def arabic_digits(text: str) -> str:
    """Write the Thai digits of ``text`` as Arabic digits (0–9)."""
    return text.translate(_TO_ARABIC_DIGITS)


def buddhist_year(year: int) -> int:
    """The Buddhist-era year (พ.ศ.) of a Gregorian year."""
    return year + BUDDHIST_ERA_OFFSET


def gregorian_year(be_year: int) -> int:
    """The Gregorian year of a Buddhist-era year (พ.ศ.)."""
    return be_year - BUDDHIST_ERA_OFFSET


def local_date(moment: dt.datetime | dt.date) -> dt.date:
    """The calendar date in Bangkok of an aware datetime (a date is returned unchanged)."""
    if isinstance(moment, dt.datetime):
        if moment.tzinfo is None:
            raise ValueError("naive datetime: Saraban stores aware UTC datetimes")
        return moment.astimezone(BANGKOK).date()
    return moment


def format_thai_date(day: dt.date, *, use_thai_digits: bool = True, abbreviated: bool = False) -> str:
    """The official form of a date: "๒๖ พฤศจิกายน ๒๕๖๙" (or "26 พ.ย. 2569" abbreviated, Arabic digits)."""
    months = THAI_MONTHS_ABBR if abbreviated else THAI_MONTHS
    text = f"{day.day} {months[day.month - 1]} {buddhist_year(day.year)}"
    return thai_digits(text) if use_thai_digits else text


def format_thai_datetime(moment: dt.datetime, *, use_thai_digits: bool = False) -> str:
    """A date and Bangkok time as official writing has it, e.g. "26 พ.ย. 2569 14.05 น."."""
    local = moment.astimezone(BANGKOK)
    text = f"{format_thai_date(local.date(), use_thai_digits=False, abbreviated=True)} {local:%H.%M} น."
    return thai_digits(text) if use_thai_digits else text


def parse_thai_date(text: str) -> dt.date:
    """Parse a date written "d/m/yyyy" in พ.ศ. (Thai or Arabic digits), as clerks type it.

    Raises ``ValueError`` for anything else.
    """
    parts = arabic_digits(text.strip()).replace("-", "/").split("/")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"not a date d/m/พ.ศ.: {text!r}")
    day, month, be_year = (int(p) for p in parts)
    if be_year < 2400:
        raise ValueError(f"year {be_year} is not a Buddhist-era year")
    return dt.date(gregorian_year(be_year), month, day)
