"""Reads of the registers."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from saraban.core.thai import BANGKOK

from .models import BookKind, RegisterEntry


def _bangkok_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The instants of 00:00 on ``start`` and of 00:00 the day after ``end``, in Bangkok."""
    return (
        dt.datetime.combine(start, dt.time(), tzinfo=BANGKOK),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=BANGKOK),
    )


def register_entries(
    organisation_id: int,
    kind: BookKind,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    text: str = "",
    numbers_only: bool = False,
) -> QuerySet[RegisterEntry]:
    """The entries of an organisation's register of ``kind``, registered between ``start`` and ``end``.

    ``text`` matches the letter number, subject, sender or recipient (substring); with
    ``numbers_only`` the letter number alone (a classified book read without a full grant: a search
    must not tell which hidden subjects hold a word).
    """
    entries = RegisterEntry.objects.filter(
        book__organisation_id=organisation_id, book__kind=kind
    ).select_related("book")
    if start or end:
        low, high = _bangkok_bounds(start or dt.date(1900, 1, 1), end or dt.date(9999, 12, 30))
        entries = entries.filter(registered_at__gte=low, registered_at__lt=high)
    if text and numbers_only:
        entries = entries.filter(letter_number__icontains=text)
    elif text:
        entries = entries.filter(
            Q(letter_number__icontains=text) | Q(subject__icontains=text)
            | Q(sender__icontains=text) | Q(recipient__icontains=text)
        )
    return entries.order_by("book__year", "number")
