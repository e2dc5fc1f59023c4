"""Content-Security-Policy on every page (no inline script anywhere), and HTTPS-only cookies and HSTS."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from saraban.directory.models import Organisation, Person
from tests.web.test_workflow_pages import draft

pytestmark = pytest.mark.django_db
SRC = Path(__file__).resolve().parents[2] / "src" / "saraban"
REQUIRED = {
    "default-src": "'self'", "script-src": "'self'", "object-src": "'none'",
    "frame-ancestors": "'self'", "base-uri": "'self'", "form-action": "'self'",
}


@pytest.fixture(autouse=True)
def _counters_of_this_test(settings: object, tmp_path: Path) -> None:
    """Sign-in failures here are counted in a cache of this test's own."""
    settings.CACHES = {**settings.CACHES, "counters": {  # type: ignore[attr-defined]
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": str(tmp_path),
    }}
    settings.SARABAN_RATE_LIMIT_CACHE = "counters"  # type: ignore[attr-defined]


def policy(response: object) -> dict[str, str]:
    header = response["Content-Security-Policy"]  # type: ignore[index]
    directives = [part.strip().split(None, 1) for part in header.split(";") if part.strip()]
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives}


def signed_in(person: Person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def test_every_kind_of_page_carries_the_policy(agency: Organisation, clerk: Person) -> None:
    anonymous, clerk_client = Client(), signed_in(clerk)
    responses = [
        anonymous.get("/"), anonymous.get("/accounts/login/"), anonymous.get("/verify"),
        anonymous.post("/accounts/login/", {"username": "clerk", "password": "not-it"}),
        clerk_client.get("/work/"), clerk_client.get("/letters/new/"), clerk_client.get("/inbox/"),
        clerk_client.get("/registers/"), clerk_client.get("/api/docs"), anonymous.get("/api/openapi.json"),
    ]
    for response in responses:
        assert response.status_code == 200, response
        directives = policy(response)
        assert {name: directives.get(name) for name in REQUIRED} == REQUIRED
        # Nothing inline may run, nor may a page inject <style> elements; style attributes may stay.
        assert "unsafe-inline" not in directives["script-src"] and "unsafe-eval" not in directives["script-src"]
        assert directives["style-src"] == "'self'" and directives["style-src-attr"] == "'unsafe-inline'"


def test_pdfs_in_the_pages_frames_stay_framable_by_the_same_site(agency: Organisation, clerk: Person) -> None:
    letter = draft(agency, clerk)
    pdf = signed_in(clerk).get(f"/letters/{letter.pk}/pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf["X-Frame-Options"] == "SAMEORIGIN"
    assert policy(pdf)["frame-ancestors"] == "'self'"  # a frame of this site: the letter page's own


def test_no_page_has_an_inline_script_or_event_handler() -> None:
    """The policy runs no inline code: every template takes its scripts from static files."""
    templates = sorted(SRC.glob("**/templates/**/*.html"))
    assert len(templates) > 30
    for template in templates:
        html = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), template  # inline <script>
        assert not re.search(r"\son[a-z]+\s*=", html), template  # onclick=, onchange= …
        assert "hx-on" not in html and "javascript:" not in html, template
        assert "<style" not in html, template


def test_pages_load_htmx_configured_for_the_policy(clerk: Person) -> None:
    html = signed_in(clerk).get("/work/").content.decode()
    config = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", html)
    assert config and json.loads(config.group(1)) == {"includeIndicatorStyles": False, "allowEval": False}
    assert 'src="/static/vendor/htmx.min.js"' in html and 'src="/static/web/saraban.js"' in html
    # What the inline scripts did is in the static file now.
    script = (SRC / "web" / "static" / "web" / "saraban.js").read_text()
    for hook in ("data-print", "data-autosubmit", "data-select-all", "data-insert", "data-recipients", "data-search"):
        assert hook in script, hook
    assert ".htmx-indicator" in (SRC / "web" / "static" / "web" / "saraban.css").read_text()


def test_the_pages_use_the_hooks_of_the_static_script(agency: Organisation, clerk: Person) -> None:
    client = signed_in(clerk)
    assert "data-autosubmit" in client.get("/inbox/").content.decode()
    editor = client.get("/letters/new/").content.decode()
    assert 'data-placeholder="พิมพ์ชื่อหรือรหัสหน่วยงานเพื่อค้นหา"' in editor and "data-recipients=" in editor


def _settings_under(env: dict[str, str], tmp_path: Path) -> dict[str, object]:
    """Saraban's settings as a fresh process reads them from ``env`` (the names that matter here)."""
    program = (
        "import json, saraban.settings as s; print(json.dumps({n: getattr(s, n, None) for n in ("
        "'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_HSTS_SECONDS', 'SECURE_PROXY_SSL_HEADER',"
        "'SARABAN_TRUSTED_PROXIES', 'SARABAN_RATE_LIMITS', 'SARABAN_SIGN_IN_LOCKOUT')}))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SARABAN_")}
    done = subprocess.run(
        [sys.executable, "-c", program], env={**clean, "SARABAN_HOME": str(tmp_path), **env},
        capture_output=True, text=True, timeout=120, check=False,
    )
    if done.returncode:
        return {"error": done.stderr.strip().splitlines()[-1]}
    return dict(json.loads(done.stdout))


def test_cookies_are_secure_and_hsts_is_on_when_served_over_https(tmp_path: Path) -> None:
    plain = _settings_under({}, tmp_path)
    assert plain["SESSION_COOKIE_SECURE"] is False and plain["CSRF_COOKIE_SECURE"] is False
    assert plain["SECURE_HSTS_SECONDS"] == 0 and plain["SECURE_PROXY_SSL_HEADER"] is None
    assert plain["SARABAN_RATE_LIMITS"] == {"verify": [20, 60], "verify-lookup": [60, 60]}
    https = _settings_under({"SARABAN_PUBLIC_URL": "https://saraban.example.go.th"}, tmp_path)
    assert https["SESSION_COOKIE_SECURE"] is True and https["CSRF_COOKIE_SECURE"] is True
    assert https["SECURE_HSTS_SECONDS"] == 365 * 24 * 60 * 60
    proxied = _settings_under({
        "SARABAN_HTTPS": "1", "SARABAN_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8", "SARABAN_HSTS_SECONDS": "300",
        "SARABAN_VERIFY_PER_MINUTE": "5", "SARABAN_SIGN_IN_ACCOUNT_FAILURES": "8",
        "SARABAN_SIGN_IN_ADDRESS_FAILURES": "50",
    }, tmp_path)
    assert proxied["SESSION_COOKIE_SECURE"] is True and proxied["SECURE_HSTS_SECONDS"] == 300
    assert proxied["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert proxied["SARABAN_TRUSTED_PROXIES"] == ["127.0.0.1", "10.0.0.0/8"]
    assert proxied["SARABAN_RATE_LIMITS"]["verify"] == [5, 60]  # type: ignore[index]
    lockout = proxied["SARABAN_SIGN_IN_LOCKOUT"]
    assert lockout["account_failures"] == 8 and lockout["address_failures"] == 50  # type: ignore[index]
    off = _settings_under({"SARABAN_PUBLIC_URL": "https://saraban.example.go.th", "SARABAN_HTTPS": "0"}, tmp_path)
    assert off["SESSION_COOKIE_SECURE"] is False and off["SECURE_HSTS_SECONDS"] == 0


@pytest.mark.parametrize("env, named", [
    ({"SARABAN_HTTPS": "yes"}, "SARABAN_HTTPS"),
    ({"SARABAN_TRUSTED_PROXIES": "proxy.example"}, "SARABAN_TRUSTED_PROXIES"),
    ({"SARABAN_VERIFY_PER_MINUTE": "-1"}, "SARABAN_VERIFY_PER_MINUTE"),
    ({"SARABAN_SIGN_IN_ACCOUNT_FAILURES": "five"}, "SARABAN_SIGN_IN_ACCOUNT_FAILURES"),
])
def test_a_bad_setting_stops_the_start_and_is_named_in_thai_and_english(
    env: dict[str, str], named: str, tmp_path: Path,
) -> None:
    error = str(_settings_under(env, tmp_path)["error"])
    assert error.startswith("django.core.exceptions.ImproperlyConfigured") and named in error and "/" in error


def test_over_https_the_session_cookie_is_secure_and_hsts_is_sent(clerk: Person, settings: object) -> None:
    settings.SESSION_COOKIE_SECURE = True  # type: ignore[attr-defined]
    settings.CSRF_COOKIE_SECURE = True  # type: ignore[attr-defined]
    settings.SECURE_HSTS_SECONDS = 3600  # type: ignore[attr-defined]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")  # type: ignore[attr-defined]
    client = Client(HTTP_X_FORWARDED_PROTO="https")
    page = client.get("/accounts/login/")
    assert page["Strict-Transport-Security"] == "max-age=3600"
    assert page.cookies["csrftoken"]["secure"] is True
    signed = client.post("/accounts/login/", {"username": "clerk", "password": "x-Pass-1234"})
    assert signed.status_code == 302 and signed.cookies["sessionid"]["secure"] is True
