"""Thai first, English on request: the language of a request and bilingual text for views.

Saraban keeps both texts side by side (``{% t "ไทย" "English" %}`` in templates, ``text()`` in views)
instead of gettext catalogues. The choice is the ``saraban_lang`` cookie set by the language switch;
without it the page is Thai.
"""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest

from saraban.core.labels import pair

LANG_COOKIE = "saraban_lang"
LANGUAGES: tuple[str, ...] = ("th", "en")
Language = Literal["th", "en"]


def language(request: HttpRequest | None) -> Language:
    """The language of ``request``: "en" when the switch chose English, otherwise "th"."""
    if request is None:
        return "th"
    chosen = request.COOKIES.get(LANG_COOKIE, "")
    return "en" if chosen == "en" else "th"


def text(request: HttpRequest | None, th: str, en: str) -> str:
    """``th`` or ``en`` as the request's language asks (for messages built in views)."""
    return en if language(request) == "en" else th


def pick(label: str, lang: str) -> str:
    """The Thai or English half of a choice's label (``core.labels.Label``); any other text whole."""
    th, en = pair(label)
    return en if lang == "en" else th
