"""Reads of letters."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Letter


def letters_of(organisation_ids: set[int]) -> QuerySet[Letter]:
    """Letters written by the given organisations, newest first."""
    return Letter.objects.filter(organisation_id__in=organisation_ids).order_by("-created_at")
