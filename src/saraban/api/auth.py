"""Who is calling: a bearer token (machine clients) or the browser's Django session (with CSRF on writes).

Both yield the ``Person`` the request acts as; every handler then goes through the same selectors
and services as the web pages, so the API has exactly the UI's permission rules.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer
from ninja.security.apikey import APIKeyCookie
from ninja.utils import check_csrf

from saraban.core.errors import FieldProblem, PermissionRefused, ValidationFailed
from saraban.directory.models import Person

from .models import ApiToken

TOKEN_PREFIX = "srb_"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# ``last_used_at`` is written at most this often per token, so reads do not each cost a write.
LAST_USED_GRANULARITY = dt.timedelta(minutes=5)


def token_digest(token: str) -> str:
    """The SHA-256 (hex) under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@transaction.atomic
def issue_token(owner: Person, name: str) -> tuple[ApiToken, str]:
    """Create a token for ``owner``; returns the row and the token itself, which is never stored."""
    name = name.strip()
    if not name:
        raise ValidationFailed([FieldProblem("name", "required", "ต้องตั้งชื่อโทเคน", "The token needs a name")])
    if len(name) > 100:
        raise ValidationFailed([FieldProblem(
            "name", "too_long", "ชื่อโทเคนยาวได้ไม่เกิน 100 ตัวอักษร", "The name is at most 100 characters",
        )])
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken.objects.create(owner=owner, name=name, key_sha256=token_digest(token), prefix=token[:12])
    return row, token


def revoke_token(token: ApiToken) -> ApiToken:
    """Revoke a token (idempotent): it stops authenticating at once."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def person_for_token(token: str) -> Person | None:
    """The active owner of an active token, or ``None``."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = (
        ApiToken.objects.select_related("owner")
        .filter(key_sha256=token_digest(token), revoked_at__isnull=True, owner__is_active=True)
        .first()
    )
    if row is None:
        return None
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_GRANULARITY:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.owner


class BearerToken(HttpBearer):
    """``Authorization: Bearer srb_…``: an API token created with ``saraban api_token create``."""

    def authenticate(self, request: HttpRequest, token: str) -> Person | None:
        """The token's owner, or ``None`` (the next method is tried, then 401)."""
        return person_for_token(token)


class BrowserSession(APIKeyCookie):
    """The signed-in browser's Django session; writes need the CSRF token (``X-CSRFToken`` header).

    Unlike ninja's ``SessionAuth``, a request without a session is simply not authenticated (401),
    and the CSRF check applies only to an authenticated session's unsafe methods.
    """

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        super().__init__(csrf=False)  # checked below, only where it matters

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        """The session's person; refuses an unsafe method without a valid CSRF token."""
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not isinstance(user, Person):
            return None
        if request.method not in SAFE_METHODS and check_csrf(request) is not None:
            raise PermissionRefused(
                code="auth.csrf_failed",
                message_th="คำขอนี้ไม่มีโทเคน CSRF ที่ถูกต้อง โปรดโหลดหน้าใหม่แล้วลองอีกครั้ง",
                message_en="The CSRF token is missing or wrong; reload the page and try again",
            )
        return user


AUTH = [BearerToken(), BrowserSession()]


def person_of(request: HttpRequest) -> Person:
    """The person an authenticated request acts as."""
    person = getattr(request, "auth", None)
    assert isinstance(person, Person)
    return person
