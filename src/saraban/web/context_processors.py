"""What every page of the shell needs: language, deployment name, navigation, acting organisation."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from saraban.core.thai import local_date
from saraban.directory.models import Organisation, Person
from saraban.directory.selectors import current_roles
from saraban.inbox.permissions import can_register_paper
from saraban.records.permissions import may_see_records

from . import i18n

ACTING_ORG_SESSION_KEY = "saraban_acting_org"
DEFAULT_DEPLOYMENT_NAME = "ระบบสารบรรณอิเล็กทรอนิกส์"

# path, Thai, English, access key (Alt+key, or Alt+Shift+key in Firefox)
NAVIGATION: tuple[tuple[str, str, str, str], ...] = (
    ("/work/", "งานของฉัน", "My work", "w"),
    ("/letters/drafts/", "ร่างหนังสือ", "Drafts", "a"),
    ("/outbox/", "หนังสือออก", "Outbox", "o"),
    ("/inbox/", "หนังสือเข้า", "Inbox", "i"),
    ("/inbox/register/", "ลงรับหนังสือ", "Register incoming", "r"),
    ("/registers/", "ทะเบียนหนังสือ", "Registers", "b"),
    ("/directory/", "ทำเนียบหน่วยงาน", "Directory", "y"),
    ("/certificates/", "ใบรับรอง", "Certificates", "c"),
)


def today() -> dt.date:
    """Today in Bangkok."""
    return local_date(dt.datetime.now(dt.UTC))


def my_organisations(person: Person) -> list[Organisation]:
    """The organisations where ``person`` holds a role today, each once, by name."""
    seen: dict[int, Organisation] = {}
    for assignment in current_roles(person, today()).order_by("organisation__name_th"):
        seen.setdefault(assignment.organisation_id, assignment.organisation)
    return list(seen.values())


def acting_organisation(request: HttpRequest, organisations: list[Organisation] | None = None) -> Organisation | None:
    """The organisation the signed-in user is working for: the one chosen in the switcher, else the first."""
    user = request.user
    if not isinstance(user, Person):
        return None
    orgs = my_organisations(user) if organisations is None else organisations
    chosen = request.session.get(ACTING_ORG_SESSION_KEY)
    for org in orgs:
        if org.pk == chosen:
            return org
    return orgs[0] if orgs else None


def _active(path: str, current: str) -> bool:
    if path == "/inbox/":
        return current.startswith("/inbox/") and not current.startswith("/inbox/register/")
    return current.startswith(path)


def shell(request: HttpRequest) -> dict[str, Any]:
    """Template context of the page shell (``base.html``)."""
    lang = i18n.language(request)
    context: dict[str, Any] = {
        "lang": lang,
        "deployment_name": getattr(settings, "SARABAN_DEPLOYMENT_NAME", "") or DEFAULT_DEPLOYMENT_NAME,
    }
    user = getattr(request, "user", None)
    if isinstance(user, Person) and user.is_authenticated:
        orgs = my_organisations(user)
        context["my_organisations"] = orgs
        context["acting_organisation"] = acting_organisation(request, orgs)
        acting = context["acting_organisation"]
        # Only what the person may use: nothing of the correspondence without a role in an organisation
        # (a programme partner), and ลงรับหนังสือ for the registry only.
        offered = [item for item in NAVIGATION if acting is not None and (
            item[0] != "/inbox/register/" or can_register_paper(user, acting) is None)]
        context["navigation"] = [
            {"path": path, "label": en if lang == "en" else th, "accesskey": key, "active": _active(path, request.path)}
            for path, th, en, key in offered
        ]
        if acting is not None and may_see_records(user, acting):
            context["navigation"].append({"path": "/records/", "label": "Records" if lang == "en" else "จัดเก็บหนังสือ",
                                          "accesskey": "k", "active": request.path.startswith("/records/")})
        if hasattr(user, "programme_member"):  # the roll-out programme console, for its members only
            context["navigation"].append({"path": "/programme/", "label": "Programme" if lang == "en" else "แผนขับเคลื่อน",
                                          "accesskey": "p", "active": request.path.startswith("/programme/")})
    return context
