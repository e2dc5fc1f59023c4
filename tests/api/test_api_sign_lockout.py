"""The one API route that takes the account's password, ``POST /api/letters/{id}/sign`` (re-authentication
before signing), counts its failures in the sign-in lockout: a stolen token cannot guess the password."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from saraban.core import lockout, ratelimit
from saraban.correspondence.models import Letter, LetterStatus
from saraban.correspondence.services import create_letter
from saraban.correspondence.workflow import submit_for_review
from saraban.directory.models import Organisation, Person

from ..clock import Clock
from . import PASSWORD, Side, example, side_a

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    """Counters in a cache of this test's own; a clock moved by hand."""
    settings.CACHES = {**settings.CACHES, "counters": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(tmp_path / "counters"),
    }}
    settings.SARABAN_RATE_LIMIT_CACHE = "counters"
    settings.SARABAN_SIGN_IN_LOCKOUT = dict(lockout.DEFAULTS)
    fake = Clock(1_800_000_000.0)
    monkeypatch.setattr(ratelimit, "now", fake)
    yield fake


def test_wrong_passwords_to_sign_lock_the_password_for_signing_and_signing_in(
    agency: Organisation, clerk: Person, signer: Person, clock: Clock,
) -> None:
    a: Side = side_a(agency, clerk, signer)
    letter = create_letter(a.org, example(), author=a.people["clerk"])
    submit_for_review(letter, actor=a.people["clerk"], reviewers=[], signer=a.people["signer"])
    for n in range(5):
        wrong = a.apis["signer"].post(f"/letters/{letter.pk}/sign", {"password": f"Guess-{n}"})
        assert wrong.status_code == 403 and wrong.json()["code"] == "signature.reauthentication_failed"
        assert wrong.json()["message_en"] == "The password is wrong; the letter was not signed"
    right = a.apis["signer"].post(f"/letters/{letter.pk}/sign", {"password": PASSWORD})
    assert right.status_code == 403
    body = right.json()
    assert body["code"] == "signature.reauthentication_failed"
    assert "ลองใหม่ได้ตั้งแต่เวลา 15:01 น." in body["message_th"] and "Try again from 15:01" in body["message_en"]
    assert Letter.objects.get(pk=letter.pk).status == LetterStatus.APPROVED
    # The same password signs in: the web's sign-in waits as well, another person's does not.
    web = Client(REMOTE_ADDR="192.0.2.40")
    assert web.post("/accounts/login/", {"username": signer.username, "password": PASSWORD}).status_code == 429
    assert web.post("/accounts/login/", {"username": "clerk", "password": PASSWORD}).status_code == 302
    clock.now += 61
    signed_in = Client(REMOTE_ADDR="192.0.2.40").post(
        "/accounts/login/", {"username": signer.username, "password": PASSWORD},
    )
    assert signed_in.status_code == 302
