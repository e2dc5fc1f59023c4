"""Sign-ins and API tokens in the audit trail (connected by ``AuditConfig.ready``).

- ``auth.signed_in`` and ``auth.sign_in_failed`` (Django's ``user_logged_in`` / ``user_login_failed``):
  the username tried and the client address, never the password. They go to the chain of every
  organisation the person holds a role in; a failed sign-in with a username nobody has, or of someone
  without a role, goes to the deployment-wide chain (``system``). Only sign-ins through a request are
  recorded: the password check before signing (``signatures.methods.reauthenticate``) refuses with its
  own error and is not a sign-in.
- ``api_token.created``: every new ``ApiToken`` row, whichever route made it (``POST /api/tokens``,
  ``saraban api_token create``): the owner and the token's name, never the token or its digest.
"""

from __future__ import annotations

import contextlib
import getpass
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import post_save
from django.http import HttpRequest

from .services import EventSpec, append_events, record_event

USERNAME_MAX = 150  # Django's username length: longer input is cut (it is not a username anyway)

# Who issues tokens in this context when it is not the owner through the API (e.g. a shell command).
_token_issuer: ContextVar[dict[str, str] | None] = ContextVar("saraban_token_issuer", default=None)


def organisations_of_person(person: Any) -> list[int | None]:
    """The organisations whose chains record what happens to ``person``'s account (``[None]``: none)."""
    # ``person.roles``: the directory's role assignments, reached from the user without importing the
    # directory, which records its own changes here (audit is the layer below it).
    ids = person.roles.values_list("organisation_id", flat=True).distinct()
    found: list[int | None] = [*sorted(set(ids))]
    return found or [None]


def client_address(request: HttpRequest | None) -> str:
    """The address the request came from (the server's view of it: ``REMOTE_ADDR``)."""
    return str(request.META.get("REMOTE_ADDR", "")) if request is not None else ""


def _signed_in(sender: Any, request: HttpRequest | None = None, user: Any = None, **kwargs: Any) -> None:
    if user is None:
        return
    detail = {"username": user.get_username(), "client_address": client_address(request)}
    for organisation_id in organisations_of_person(user):
        record_event("auth.signed_in", object_type="person", object_id=user.pk, organisation_id=organisation_id,
                     actor=user, detail=detail)


def _sign_in_failed(
    sender: Any, credentials: dict[str, Any] | None = None, request: HttpRequest | None = None, **kwargs: Any
) -> None:
    if request is None:
        return
    Person = get_user_model()  # the directory's Person (settings.AUTH_USER_MODEL)
    credentials = credentials or {}
    tried = credentials.get(Person.USERNAME_FIELD, credentials.get("username"))
    username = str(tried or "")[:USERNAME_MAX]
    person = Person.objects.filter(**{Person.USERNAME_FIELD: username}).first() if username else None
    spec = EventSpec(
        action="auth.sign_in_failed", object_type="person", object_id=person.pk if person is not None else "",
        actor_label="ผู้ที่ยังไม่ได้ลงชื่อเข้าใช้ / not signed in",
        detail={"username": username, "client_address": client_address(request), "known_user": person is not None},
    )
    for organisation_id in organisations_of_person(person) if person is not None else [None]:
        append_events(organisation_id, [spec])


def _token_saved(sender: Any, instance: Any, created: bool = False, raw: bool = False, **kwargs: Any) -> None:
    if not created or raw:
        return
    owner = instance.owner
    issuer = _token_issuer.get()
    detail = {"name": instance.name, "owner": owner.get_username(), **(issuer or {"via": "api"})}
    spec = EventSpec(
        action="api_token.created", object_type="api_token", object_id=instance.pk,
        actor_id=None if issuer else owner.pk,
        actor_label=f"{issuer['operator']} ({issuer['via']})" if issuer else owner.display_name,
        after={"name": instance.name, "owner": owner.pk}, detail=detail,
    )
    for organisation_id in organisations_of_person(owner):
        append_events(organisation_id, [spec])


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in this environment
        return "unknown"


@contextlib.contextmanager
def tokens_issued_by_command(command: str) -> Iterator[None]:
    """API tokens created in this block are recorded as issued by this OS user through ``command``."""
    reset = _token_issuer.set({"via": command, "operator": _os_user()})
    try:
        yield
    finally:
        _token_issuer.reset(reset)


def connect() -> None:
    """Connect the receivers (once: each has a ``dispatch_uid``)."""
    user_logged_in.connect(_signed_in, dispatch_uid="saraban.audit.signed_in")
    user_login_failed.connect(_sign_in_failed, dispatch_uid="saraban.audit.sign_in_failed")
    post_save.connect(_token_saved, sender="api.ApiToken", dispatch_uid="saraban.audit.api_token_created")
