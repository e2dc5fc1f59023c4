"""The start page and the health check."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render

from saraban.directory.models import Organisation


def home(request: HttpRequest) -> HttpResponse:
    """Signed-in users go to their work queue; others see a short welcome with the sign-in link."""
    if request.user.is_authenticated:
        return HttpResponseRedirect("/work/")
    context = {"organisation_count": Organisation.objects.filter(is_active=True).count()}
    return render(request, "web/home.html", context)


def health(request: HttpRequest) -> JsonResponse:
    """A liveness check for load balancers and the install script."""
    return JsonResponse({"status": "ok"})
