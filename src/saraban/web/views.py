"""Pages of the web interface (thin: they call selectors and render templates)."""

from __future__ import annotations

from django.db import connection
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from saraban.correspondence.models import Letter, LetterStatus
from saraban.directory.models import Organisation


def home(request: HttpRequest) -> HttpResponse:
    """The start page: what this deployment holds (the workflow UI comes with the next issue)."""
    by_status = dict(Letter.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    context = {
        "organisations": Organisation.objects.filter(parent__isnull=True).order_by("kind", "name_th")[:50],
        "organisation_count": Organisation.objects.count(),
        "letter_count": sum(by_status.values()),
        "by_status": [(label, by_status.get(value, 0)) for value, label in LetterStatus.choices],
        "database": connection.vendor,
    }
    return render(request, "web/home.html", context)


def health(request: HttpRequest) -> JsonResponse:
    """A liveness check for load balancers and the install script."""
    return JsonResponse({"status": "ok"})
