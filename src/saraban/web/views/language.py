"""The language switch (ไทย / English) and the acting-organisation switch of the top bar."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from saraban.directory.models import Person
from saraban.web.context_processors import ACTING_ORG_SESSION_KEY, my_organisations
from saraban.web.i18n import LANG_COOKIE, LANGUAGES, text

_ONE_YEAR = 365 * 24 * 3600


def _back(request: HttpRequest) -> str:
    """Where to return: the form's ``next`` or the referring page, if on this site; else the start page."""
    for candidate in (request.POST.get("next", ""), request.headers.get("referer", "")):
        if candidate and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return candidate
    return "/"


@require_POST
def switch_language(request: HttpRequest) -> HttpResponse:
    """Choose Thai or English (kept in a cookie for a year) and go back to the page."""
    lang = request.POST.get("lang", "th")
    if lang not in LANGUAGES:
        lang = "th"
    response = HttpResponseRedirect(_back(request))
    for name in (LANG_COOKIE, settings.LANGUAGE_COOKIE_NAME):  # Django's own texts follow the switch too
        response.set_cookie(name, lang, max_age=_ONE_YEAR, samesite="Lax", secure=request.is_secure())
    return response


@require_POST
@login_required
def switch_organisation(request: HttpRequest) -> HttpResponse:
    """Choose the organisation to work for among those where the user holds a role."""
    assert isinstance(request.user, Person)
    wanted = request.POST.get("organisation", "")
    for org in my_organisations(request.user):
        if str(org.pk) == wanted:
            request.session[ACTING_ORG_SESSION_KEY] = org.pk
            messages.success(
                request, text(request, f"ทำงานในนาม {org.name_th}", f"Working for {org.name_en or org.name_th}")
            )
            break
    else:
        messages.error(request, text(request, "ไม่พบหน่วยงานที่เลือก", "The organisation chosen was not found"))
    return HttpResponseRedirect(_back(request))
