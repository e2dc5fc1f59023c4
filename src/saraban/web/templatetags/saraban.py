"""Template tags: ``{% t "ไทย" "English" %}``, Thai dates, and the halves of bilingual labels.

Installed as a template builtin, so templates need no ``{% load saraban %}`` (loading it is harmless).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template

from saraban.core.thai import format_thai_date, format_thai_datetime, local_date
from saraban.web import i18n

register = template.Library()


@register.simple_tag(takes_context=True)
def t(context: template.Context, th: str, en: str) -> str:
    """The Thai or the English text, by the language of the page (Thai unless switched)."""
    return en if _lang(context) == "en" else th


def _lang(context: template.Context) -> str:
    lang = context.get("lang")
    if lang in i18n.LANGUAGES:
        return str(lang)
    return i18n.language(context.get("request"))


@register.filter
def thaidate(value: Any) -> str:
    """A date (or an aware datetime, taken in Bangkok) as "26 พ.ย. 2569"; empty for nothing."""
    if not value:
        return ""
    if isinstance(value, dt.datetime):
        value = local_date(value)
    if not isinstance(value, dt.date):
        return str(value)
    return format_thai_date(value, use_thai_digits=False, abbreviated=True)


@register.filter
def thaidatetime(value: Any) -> str:
    """An aware datetime as Bangkok time, "26 พ.ย. 2569 14:05 น."; a plain date as ``thaidate``."""
    if not value:
        return ""
    if isinstance(value, dt.datetime):
        return format_thai_datetime(value)
    return thaidate(value)


@register.filter
def pick(label: Any, lang: str) -> str:
    """The Thai or English half of a choice's label (``core.labels.Label``): ``{{ kind.label|pick:lang }}``."""
    return i18n.pick(label if isinstance(label, str) else str(label), lang)
