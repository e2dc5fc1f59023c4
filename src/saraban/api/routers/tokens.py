"""The caller's own API tokens: list, create (the token is shown once), revoke."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from ..auth import issue_token, person_of, revoke_token
from ..errors import NotFound
from ..models import ApiToken
from ..schemas import ERRORS, Id, TokenCreated, TokenIn, TokenOut

router = Router(tags=["tokens"])


def _out(token: ApiToken) -> dict[str, Any]:
    return {"id": token.pk, "name": token.name, "prefix": token.prefix, "created_at": token.created_at,
            "last_used_at": token.last_used_at, "revoked_at": token.revoked_at}


@router.get("/tokens", response={200: list[TokenOut], **ERRORS}, summary="My API tokens")
def list_tokens(request: HttpRequest) -> list[dict[str, Any]]:
    """The caller's tokens (never the tokens themselves: only their first characters)."""
    return [_out(t) for t in ApiToken.objects.filter(owner=person_of(request))]


@router.post("/tokens", response={201: TokenCreated, **ERRORS}, summary="Create an API token")
def create_token(request: HttpRequest, payload: TokenIn) -> Status[dict[str, Any]]:
    """A new token acting as the caller; the response is the only time the token is shown."""
    row, token = issue_token(person_of(request), payload.name)
    return Status(201, {**_out(row), "token": token})


@router.delete("/tokens/{int:token_id}", response={200: TokenOut, **ERRORS}, summary="Revoke an API token")
def delete_token(request: HttpRequest, token_id: Id) -> dict[str, Any]:
    """Revoke one of the caller's tokens; it stops working at once."""
    token = ApiToken.objects.filter(pk=token_id, owner=person_of(request)).first()
    if token is None:
        raise NotFound()
    return _out(revoke_token(token))
