"""Retention classes and the year a record is kept to (ระเบียบฯ ข้อ 57), database-free.

The periods are counted in whole calendar years from the year of the document: a letter of 2569 kept
10 years is kept to the end of พ.ศ. 2579 (its stamp reads "เก็บถึง พ.ศ. ๒๕๗๙") and is listed in the
survey of early 2580 (ข้อ 66). Permanent records (ห้ามทำลาย) have no such year. A period set by another
law (financial, evidential, secret records) is given in years with its legal basis.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import models

from saraban.core.labels import Label

BE_OFFSET = 543  # พ.ศ. = ค.ศ. + 543


class RetentionClass(models.TextChoices):
    ONE_YEAR = "1y", Label("เก็บไม่น้อยกว่า 1 ปี (เรื่องธรรมดา)", "1 year (routine)")
    FIVE_YEARS = "5y", Label("เก็บไม่น้อยกว่า 5 ปี (สำเนาที่มีต้นเรื่องอยู่แล้ว)", "5 years (copies)")
    TEN_YEARS = "10y", Label("เก็บไม่น้อยกว่า 10 ปี", "10 years")
    PERMANENT = "permanent", Label("ห้ามทำลาย", "permanent")
    BY_LAW = "law", Label("เก็บตามกฎหมายเฉพาะ", "as another law requires")


FIXED_YEARS = {RetentionClass.ONE_YEAR: 1, RetentionClass.FIVE_YEARS: 5, RetentionClass.TEN_YEARS: 10}


@dataclass(frozen=True)
class Retention:
    """A retention as decided for one record: its class, and its years when another law sets them."""

    retention_class: RetentionClass
    years: int | None = None  # only for BY_LAW
    legal_basis: str = ""  # only for BY_LAW: the law or rule that sets the period

    def period_years(self) -> int | None:
        """How many years the record is kept; None for ห้ามทำลาย."""
        if self.retention_class == RetentionClass.PERMANENT:
            return None
        if self.retention_class == RetentionClass.BY_LAW:
            return self.years
        return FIXED_YEARS[self.retention_class]


def buddhist_year(day: dt.date) -> int:
    """The พ.ศ. year of ``day``."""
    return day.year + BE_OFFSET


def keep_until_year(document_year_be: int, retention: Retention) -> int | None:
    """The last พ.ศ. year the record is kept (เก็บถึง พ.ศ. …); None when it is never destroyed."""
    years = retention.period_years()
    return None if years is None else document_year_be + years


def as_buddhist_year(year: int) -> int:
    """A year as people type it: 2400 and later is พ.ศ. already, earlier is ค.ศ. (2026 → 2569)."""
    return year if year >= 2400 else year + BE_OFFSET
