"""What the workflow forms share: labels and errors in the request's language, dates in พ.ศ."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.http import HttpRequest

from saraban.core.thai import buddhist_year, parse_thai_date
from saraban.web.i18n import text


class BilingualForm(forms.Form):
    """A form whose labels, hints and messages follow the request's language (Thai unless switched)."""

    # field name → (Thai label, English label)
    labels: dict[str, tuple[str, str]] = {}

    def __init__(self, *args: Any, request: HttpRequest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        required = self.t("ต้องกรอกช่องนี้", "This field is required")
        for name, field in self.fields.items():
            if name in self.labels:
                field.label = self.t(*self.labels[name])
            field.error_messages["required"] = required
            field.error_messages["invalid_choice"] = self.t("ตัวเลือกนี้ไม่มีในรายการ", "Not one of the choices")

    def t(self, th: str, en: str) -> str:
        """``th`` or ``en`` by the request's language."""
        return text(self.request, th, en)


def thai_date_widget(request: HttpRequest) -> forms.TextInput:
    """A text box for a date typed "d/m/yyyy" in พ.ศ."""
    return forms.TextInput(attrs={
        "placeholder": text(request, "ว/ด/ปปปป เช่น 26/11/2569", "d/m/yyyy, e.g. 26/11/2569"),
        "inputmode": "numeric", "size": 12, "autocomplete": "off", "class": "be-date",
    })


def parse_be_date(form: BilingualForm, value: str) -> dt.date | None:
    """A date typed d/m/พ.ศ. (Thai or Arabic digits); ``None`` when empty; a Thai error otherwise."""
    if not value.strip():
        return None
    try:
        return parse_thai_date(value)
    except ValueError:
        raise forms.ValidationError(form.t(
            f"“{value}” ไม่ใช่วันที่ในรูป วัน/เดือน/ปี พ.ศ. เช่น 26/11/2569",
            f"“{value}” is not a date day/month/Buddhist year, e.g. 26/11/2569",
        )) from None


def be_date(day: dt.date | None) -> str:
    """A date as clerks type it: "26/11/2569"."""
    return f"{day.day}/{day.month}/{buddhist_year(day.year)}" if day else ""
