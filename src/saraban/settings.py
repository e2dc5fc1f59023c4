"""Django settings for Saraban.

Everything a deployment configures comes from environment variables prefixed ``SARABAN_``:

- ``SARABAN_HOME``: the data directory of the embedded default (database, files, keys); ``./var``.
- ``SARABAN_DATABASE_URL``: a database URL; unset means SQLite in ``SARABAN_HOME``.
- ``SARABAN_SECRET_KEY``: Django's secret key; generated once into ``SARABAN_HOME`` when unset.
- ``SARABAN_DEBUG``: ``1`` for development.
- ``SARABAN_ALLOWED_HOSTS``: comma-separated host names.
- ``SARABAN_MAX_UPLOAD_MB``: the largest file accepted and stored, in MB (a scan: all its pages together); 50.
- ``SARABAN_HTTPS``, ``SARABAN_HSTS_SECONDS``, ``SARABAN_TRUSTED_PROXIES``, ``SARABAN_VERIFY_PER_MINUTE``,
  ``SARABAN_SIGN_IN_ACCOUNT_FAILURES``, ``SARABAN_SIGN_IN_ADDRESS_FAILURES``: see "Production" below
  and in the README.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent
SARABAN_HOME = Path(os.environ.get("SARABAN_HOME", "var")).resolve()
SARABAN_HOME.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """Return the configured secret key, or one generated once and kept in SARABAN_HOME."""
    configured = os.environ.get("SARABAN_SECRET_KEY")
    if configured:
        return configured
    key_file = SARABAN_HOME / "secret_key"
    if not key_file.exists():
        key_file.touch(mode=0o600)
        key_file.write_text(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("SARABAN_DEBUG", "0") == "1"
ALLOWED_HOSTS = os.environ.get("SARABAN_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks_db",
    "ninja",  # serves the API docs (Swagger UI) from its own static files, not a CDN
    "saraban.audit",
    "saraban.directory",
    "saraban.documents",
    "saraban.correspondence",
    "saraban.registers",
    "saraban.access",
    "saraban.signatures",
    "saraban.exchange",
    "saraban.ecms",
    "saraban.mail",
    "saraban.inbox",
    "saraban.search",
    "saraban.records",
    "saraban.ocr",
    "saraban.rendering",
    "saraban.web",
    "saraban.api",
    "saraban.demo",
    "saraban.rollout",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",  # SECURE_CSP below
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "saraban.api.media_types.MediaTypeMiddleware",  # 415 before an API operation reads a body it cannot
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "saraban.urls"
WSGI_APPLICATION = "saraban.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "saraban.web.context_processors.shell",
            ],
            "builtins": ["saraban.web.templatetags.saraban"],
        },
    },
]


def _database() -> dict[str, object]:
    url = os.environ.get("SARABAN_DATABASE_URL", "").strip()
    if url:
        config: dict[str, object] = dict(dj_database_url.parse(url, conn_max_age=60))
        config["TEST"] = {"NAME": os.environ.get("SARABAN_TEST_DATABASE_NAME", f"test_{config['NAME']}")}
        return config
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": SARABAN_HOME / "saraban.sqlite3",
        # IMMEDIATE: a write transaction takes the write lock when it begins, so concurrent
        # writers queue on the busy timeout instead of failing with "database is locked".
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        },
        # A file, not memory: the numbering tests use several connections at once.
        "TEST": {"NAME": str(SARABAN_HOME / f"test-{os.getpid()}.sqlite3")},
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "directory.Person"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/work/"

LANGUAGE_CODE = "th"
LANGUAGES = [("th", "ไทย"), ("en", "English")]
TIME_ZONE = "Asia/Bangkok"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = SARABAN_HOME / "static"  # filled by collectstatic (`saraban serve` runs it)
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# A cache shared by the server's processes on this machine (letter previews live here for minutes).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": SARABAN_HOME / "cache",
        "TIMEOUT": 15 * 60,
    },
    # The rate limits' and the sign-in lockout's counters (SARABAN_RATE_LIMIT_CACHE), apart from the
    # previews: a full file cache drops entries at random, and previews must not push counters out.
    "counters": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": SARABAN_HOME / "cache" / "counters",
        "TIMEOUT": 60 * 60,
        "OPTIONS": {"MAX_ENTRIES": 20_000},
    },
}

# Background work: Django's task API with the broker-less database backend.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# E-mail (certificate expiry warnings): an SMTP server when SARABAN_SMTP_HOST is set, otherwise each
# message is written as a file into SARABAN_HOME/mail (Django's MAILERS setting).
if os.environ.get("SARABAN_SMTP_HOST"):
    _smtp_port = int(os.environ.get("SARABAN_SMTP_PORT", "587"))
    EMAIL_MAILER = {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": os.environ["SARABAN_SMTP_HOST"], "port": _smtp_port,
            "username": os.environ.get("SARABAN_SMTP_USER", ""),
            "password": os.environ.get("SARABAN_SMTP_PASSWORD", ""),
            "use_tls": _smtp_port == 587, "use_ssl": _smtp_port == 465, "timeout": 30,
        },
    }
else:
    EMAIL_MAILER = {
        "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "OPTIONS": {"file_path": str(SARABAN_HOME / "mail")},
    }
MAILERS = {"default": EMAIL_MAILER}
DEFAULT_FROM_EMAIL = os.environ.get("SARABAN_EMAIL_FROM", "Saraban <saraban@localhost>")

# Saraban's own settings.
# The address people reach this deployment at: printed in the QR codes of signed letters.
SARABAN_PUBLIC_URL = os.environ.get("SARABAN_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

# Exchange between deployments (docs/exchange.md). The deployment's private key is kept encrypted in the
# database under this passphrase (unset: a key derived from SECRET_KEY); the name goes into its certificate.
SARABAN_EXCHANGE_KEY_PASSPHRASE = os.environ.get("SARABAN_EXCHANGE_KEY_PASSPHRASE", "")
SARABAN_DEPLOYMENT_NAME = os.environ.get("SARABAN_DEPLOYMENT_NAME", "")
# PKI signing (PAdES): the time-stamping authority, and the level when an organisation chose none
# (B-LTA when a TSA is configured, else B-B).
SARABAN_PADES = {
    "tsa_url": os.environ.get("SARABAN_TSA_URL", ""),
    "level": os.environ.get("SARABAN_PADES_LEVEL", ""),
}


def _max_upload_bytes() -> int:
    """``SARABAN_MAX_UPLOAD_MB`` in bytes (default 50 MB: a scanned letter of 30 pages is about 10 MB)."""
    configured = os.environ.get("SARABAN_MAX_UPLOAD_MB", "").strip() or "50"
    try:
        megabytes = float(configured)
    except ValueError:
        megabytes = 0.0
    if not 0 < megabytes <= 1024:  # NaN and inf fail this too
        raise ImproperlyConfigured(
            "SARABAN_MAX_UPLOAD_MB ต้องเป็นขนาดหน่วย MB ที่มากกว่า 0 และไม่เกิน 1024"
            f" / must be a size in MB, more than 0 and at most 1024: {configured!r}"
        )
    return int(megabytes * 1024 * 1024)


# The largest file the deployment accepts and stores (documents.services.max_file_bytes): uploads
# over it are refused while they stream, before they are read whole (documents.uploads).
SARABAN_MAX_UPLOAD_BYTES = _max_upload_bytes()
SARABAN_BLOB_STORE = {
    "BACKEND": "saraban.documents.storage.LocalBlobStore",
    "OPTIONS": {"root": SARABAN_HOME / "blobs"},
}

# ---- Production: rate limits, the sign-in lockout, Content-Security-Policy, HTTPS (README "Production").


def _env_int(name: str, default: int, *, high: int = 10**6) -> int:
    """A whole number from the environment, 0 ≤ n ≤ ``high``; a bad value stops the start-up, named."""
    configured = os.environ.get(name, "").strip()
    if not configured:
        return default
    if not configured.isdigit() or int(configured) > high:  # isdigit: no sign, no fraction, no "inf"
        raise ImproperlyConfigured(
            f"{name} ต้องเป็นจำนวนเต็มตั้งแต่ 0 ถึง {high} / must be a whole number from 0 to {high}: {configured!r}"
        )
    return int(configured)


def _env_codes(name: str) -> dict[str, str]:
    """A JSON object of code strings from the environment ({} when unset); a bad value stops the start-up, named."""
    configured = os.environ.get(name, "").strip()
    if not configured:
        return {}
    try:
        codes = json.loads(configured)
    except ValueError:
        codes = None
    if not isinstance(codes, dict) or not all(isinstance(v, str) for v in codes.values()):
        raise ImproperlyConfigured(
            f'{name} ต้องเป็น JSON เช่น {{"normal": "001"}} / must be a JSON object of codes, e.g. {{"normal": "001"}}'
        )
    return codes


def _trusted_proxies() -> list[str]:
    """``SARABAN_TRUSTED_PROXIES``: the reverse proxies' addresses or networks (comma-separated)."""
    entries = [e.strip() for e in os.environ.get("SARABAN_TRUSTED_PROXIES", "").split(",") if e.strip()]
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ImproperlyConfigured(
                "SARABAN_TRUSTED_PROXIES ต้องเป็นที่อยู่ IP หรือเครือข่าย คั่นด้วยจุลภาค"
                f" / must be IP addresses or networks, comma-separated: {entry!r}"
            ) from None
    return entries


def _https() -> bool:
    """``SARABAN_HTTPS`` (1 or 0); unset: whether ``SARABAN_PUBLIC_URL`` starts with https://."""
    configured = os.environ.get("SARABAN_HTTPS", "").strip()
    if configured not in ("", "0", "1"):
        raise ImproperlyConfigured(f"SARABAN_HTTPS ต้องเป็น 1 หรือ 0 / must be 1 or 0: {configured!r}")
    return configured == "1" if configured else SARABAN_PUBLIC_URL.startswith("https://")


# Rate limits per client address, (requests, seconds); 0 requests means no limit (saraban.core.ratelimit).
# Counters live in this cache: the file-based one is shared by the processes of one machine; servers
# on several machines need a shared cache (Django's RedisCache or PyMemcacheCache) under this name.
SARABAN_RATE_LIMIT_CACHE = "counters"
SARABAN_RATE_LIMITS = {
    # uploads to /verify and POST /api/verify
    "verify": (_env_int("SARABAN_VERIFY_PER_MINUTE", 20), 60),
    # /verify?d=… from a letter's QR code (each one checks the stored PDF's signatures)
    "verify-lookup": (3 * _env_int("SARABAN_VERIFY_PER_MINUTE", 20), 60),
}
# Sign-in (saraban.core.lockout): after 5 wrong passwords for one username, each further attempt waits
# 1, 2, 4 … up to 15 minutes after the last failure; 20 failures from one address within 15 minutes
# make that address wait 15 minutes. Only failures count; the right password clears the username's.
SARABAN_SIGN_IN_LOCKOUT = {
    "account_failures": _env_int("SARABAN_SIGN_IN_ACCOUNT_FAILURES", 5),
    "first_wait": 60,
    "max_wait": 15 * 60,
    "reset_after": 60 * 60,
    "address_failures": _env_int("SARABAN_SIGN_IN_ADDRESS_FAILURES", 20),
    "address_window": 15 * 60,
    "address_wait": 15 * 60,
}
# Reverse proxies trusted to say the client's address (X-Forwarded-For) and scheme (X-Forwarded-Proto).
# Only with them set is either header believed; the server's own port must then be reachable through
# the proxy only (`saraban serve` listens on 127.0.0.1 unless told otherwise).
SARABAN_TRUSTED_PROXIES = _trusted_proxies()
if SARABAN_TRUSTED_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# HTTPS: cookies only over HTTPS, and browsers told to come back over HTTPS only (HSTS).
SARABAN_HTTPS = _https()
SESSION_COOKIE_SECURE = SARABAN_HTTPS
CSRF_COOKIE_SECURE = SARABAN_HTTPS
_YEAR = 365 * 24 * 60 * 60
SECURE_HSTS_SECONDS = _env_int("SARABAN_HSTS_SECONDS", _YEAR, high=2 * _YEAR) if SARABAN_HTTPS else 0

# Content-Security-Policy on every response (django.middleware.csp). The pages have no inline script
# and no inline event handler (web/saraban.js binds them), so scripts come from this site only and no
# nonce is needed. htmx's inline indicator <style> is switched off (htmx-config in base.html; the
# rule is in saraban.css); style attributes are allowed (style-src-attr), <style> elements are not.
# img-src data: is for the icons of the API docs (Swagger UI). Same-site frames: PDFs in the pages.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "style-src-attr": [CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "frame-ancestors": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("SARABAN_LOG_LEVEL", "WARNING")},
}

# ---- Exchange between deployments (docs/exchange.md): limits of a message received, the retry window of
# the outbox and the pump (ลับที่สุด letters go only where both deployments allow it: access.DeploymentPolicy).
SARABAN_EXCHANGE = {
    "max_message_bytes": _env_int("SARABAN_EXCHANGE_MAX_MESSAGE_MB", 64, high=1024) * 1024 * 1024,
    "max_parts": _env_int("SARABAN_EXCHANGE_MAX_PARTS", 100, high=10_000),
    "retry_days": _env_int("SARABAN_EXCHANGE_RETRY_DAYS", 3, high=60),
    "senders": max(1, _env_int("SARABAN_EXCHANGE_SENDERS", 4, high=64)),  # parallel deliveries per pump
    "timeout_s": max(1, _env_int("SARABAN_EXCHANGE_TIMEOUT_S", 30, high=600)),
    "allow_http": os.environ.get("SARABAN_EXCHANGE_ALLOW_HTTP", "") == "1",  # loopback is always allowed
}

# ---- DGA e-CMS (saraban.ecms): how often each organisation's node is polled, the retry window and the
# timeout of a SOAP call. The SecretCode/SpeedCode lists are unconfirmed [M]: JSON objects
# {"normal": "001", ...} in SARABAN_ECMS_SECRET_CODES / SARABAN_ECMS_SPEED_CODES are laid over the defaults.
SARABAN_ECMS: dict[str, Any] = {
    "poll_s": max(1, _env_int("SARABAN_ECMS_POLL_S", 60, high=86_400)),
    "retry_days": _env_int("SARABAN_ECMS_RETRY_DAYS", 3, high=60),
    "timeout_s": max(1, _env_int("SARABAN_ECMS_TIMEOUT_S", 60, high=600)),
    "secret_codes": _env_codes("SARABAN_ECMS_SECRET_CODES"),
    "speed_codes": _env_codes("SARABAN_ECMS_SPEED_CODES"),
}

# ---- The central e-mail channel (saraban.mail; 2021 amendment, ภาคผนวก 7): how often each organisation's
# mailbox is read (the Regulation asks for at least twice a day), the retry window and SMTP/IMAP timeout,
# the largest message taken into the inbox (larger ones are quarantined, left in the mailbox).
SARABAN_MAIL: dict[str, Any] = {
    "poll_s": max(1, _env_int("SARABAN_MAIL_POLL_S", 300, high=43_200)),
    "retry_days": _env_int("SARABAN_MAIL_RETRY_DAYS", 3, high=60),
    "timeout_s": max(1, _env_int("SARABAN_MAIL_TIMEOUT_S", 60, high=600)),
    "max_message_bytes": _env_int("SARABAN_MAIL_MAX_MESSAGE_MB", 25, high=1024) * 1024 * 1024,
}
# ---- Thai OCR of scans (saraban.ocr): Tesseract's models ("tha+eng": Thai letters quote English names and
# codes), straightening and page turning, pages read at once, the time a page may take, the largest scan read.
# bench/ocr.py measured the defaults. SARABAN_OCR_ENABLED=0 turns OCR off (scans are kept, not read).
_OCR_LANGUAGES = os.environ.get("SARABAN_OCR_LANGUAGES", "tha+eng").strip() or "tha+eng"
if not re.fullmatch(r"[a-z_]{3,20}(\+[a-z_]{3,20}){0,4}", _OCR_LANGUAGES):
    raise ImproperlyConfigured(
        "SARABAN_OCR_LANGUAGES ต้องเป็นชื่อภาษาของ Tesseract คั่นด้วย + เช่น tha+eng / "
        f"must be Tesseract language names joined by +, e.g. tha+eng: {_OCR_LANGUAGES!r}"
    )
SARABAN_OCR: dict[str, Any] = {
    "enabled": os.environ.get("SARABAN_OCR_ENABLED", "1") != "0",
    "languages": _OCR_LANGUAGES,
    "deskew": os.environ.get("SARABAN_OCR_DESKEW", "1") != "0",
    "clean": os.environ.get("SARABAN_OCR_CLEAN", "0") == "1",
    "rotate_pages": os.environ.get("SARABAN_OCR_ROTATE", "1") != "0",
    "jobs": max(1, _env_int("SARABAN_OCR_JOBS", 1, high=64)),
    "page_timeout_s": max(10, _env_int("SARABAN_OCR_PAGE_TIMEOUT_S", 180, high=3600)),
    "max_pages": max(1, _env_int("SARABAN_OCR_MAX_PAGES", 300, high=5000)),
}
# ---- Records (saraban.records; ระเบียบฯ ข้อ 52–69). The Regulation's periods that are unconfirmed [M] are
# settings: the retention of a letter filed nowhere (10 years), the age at which records go to the National
# Archives (20 years, by 31 January), the days after the year's end to draw up the destruction list (60).
_RETENTION = os.environ.get("SARABAN_RECORDS_DEFAULT_RETENTION", "10y").strip() or "10y"
if _RETENTION not in ("1y", "5y", "10y", "permanent"):
    raise ImproperlyConfigured(
        "SARABAN_RECORDS_DEFAULT_RETENTION ต้องเป็น 1y, 5y, 10y หรือ permanent / must be 1y, 5y, 10y or permanent: "
        f"{_RETENTION!r}"
    )
SARABAN_RECORDS: dict[str, Any] = {
    "default_retention": _RETENTION,
    "transfer_age_years": max(1, _env_int("SARABAN_RECORDS_TRANSFER_AGE_YEARS", 20, high=100)),
    "transfer_deadline": os.environ.get("SARABAN_RECORDS_TRANSFER_DEADLINE", "01-31"),
    "survey_days": max(1, _env_int("SARABAN_RECORDS_SURVEY_DAYS", 60, high=366)),
    "archives_objection_days": max(0, _env_int("SARABAN_RECORDS_OBJECTION_DAYS", 60, high=3650)),
    # The National Archives' identifier in the directory: the covering letter of a destruction list goes there.
    "archives_organisation": os.environ.get("SARABAN_RECORDS_ARCHIVES_ORG", "fad-national-archives"),
}
# Secrets kept in the database (mail passwords, DKIM keys) are sealed under a key derived from this
# (unset: from SECRET_KEY); see saraban.core.secrets.
SARABAN_SECRETS_KEY = os.environ.get("SARABAN_SECRETS_KEY", "")
