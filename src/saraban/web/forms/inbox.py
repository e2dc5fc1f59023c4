"""Forms of incoming letters: registering a paper letter, endorsing and assigning, acting, closing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest

from saraban.access.policy import today
from saraban.directory.models import Organisation, Person, Role
from saraban.directory.selectors import unit_ids_under
from saraban.inbox.services import AssignTo, PaperLetter
from saraban.regulation.kinds import Secrecy, Urgency

from .base import BilingualForm, be_date, parse_be_date, thai_date_widget
from .letters import SECRECY_LABELS, URGENCY_LABELS, people_with_roles

ASSIGNMENT_ROWS = 3
SCAN_TYPES = {"application/pdf", "image/png", "image/jpeg"}


class MultipleFileInput(forms.ClearableFileInput):
    """A file box that takes several files (the pages of a scan)."""

    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file field that cleans to the list of uploaded files, in the order chosen."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        """Each file checked as one upload; none is an empty list."""
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


class PaperLetterForm(BilingualForm):
    """ลงรับหนังสือกระดาษ: what the clerk types from the letter, and its scan."""

    labels = {
        "sender_name": ("จาก", "From"), "letter_number": ("ที่", "Letter no."),
        "letter_date": ("ลงวันที่ (พ.ศ.)", "Dated (B.E.)"), "subject": ("เรื่อง", "Subject"),
        "addressed_to": ("ถึง", "To"), "urgency": ("ชั้นความเร็ว", "Urgency"), "secrecy": ("ชั้นความลับ", "Secrecy"),
        "scan": ("ไฟล์สแกน (PDF หนึ่งไฟล์ หรือรูป JPEG/PNG หลายหน้า)", "Scan (one PDF, or JPEG/PNG pages)"),
        "register_anyway": ("ลงรับซ้ำโดยตั้งใจ (เป็นคนละฉบับ หรือได้รับซ้ำจริง)",
                            "Register it anyway (a different letter, or truly received again)"),
    }
    sender_name = forms.CharField(max_length=500, required=False)
    letter_number = forms.CharField(max_length=64, required=False)
    letter_date = forms.CharField(max_length=20, required=False)
    subject = forms.CharField(max_length=2000, required=False)
    addressed_to = forms.CharField(max_length=1000, required=False)
    urgency = forms.ChoiceField()
    secrecy = forms.ChoiceField()
    scan = MultipleFileField(required=False, widget=MultipleFileInput(attrs={
        "accept": "application/pdf,image/png,image/jpeg"}))
    register_anyway = forms.BooleanField(required=False)

    def __init__(self, *args: Any, request: HttpRequest, **kwargs: Any) -> None:
        super().__init__(*args, request=request, **kwargs)
        en = self.t("th", "en") == "en"
        for name, labels in (("urgency", URGENCY_LABELS), ("secrecy", SECRECY_LABELS)):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [(k, v[1] if en else v[0]) for k, v in labels.items()]
        self.fields["sender_name"].widget.attrs.update({"autofocus": "", "autocomplete": "off"})
        self.fields["letter_date"].widget = thai_date_widget(request)
        for name in ("letter_number", "subject", "addressed_to"):
            self.fields[name].widget.attrs["autocomplete"] = "off"

    def clean_letter_date(self) -> dt.date | None:
        """ลงวันที่, typed d/m/พ.ศ. (from พ.ศ. 2400): not after today, since a letter is dated when it is written."""
        day = parse_be_date(self, self.cleaned_data.get("letter_date", ""))
        if day is not None and day > today() + dt.timedelta(days=1):
            raise forms.ValidationError(self.t(
                f"ลงวันที่ {be_date(day)} เลยวันนี้ไป ตรวจสอบปี พ.ศ. อีกครั้ง",
                f"The date {be_date(day)} is after today: check the Buddhist year"))
        return day

    def paper_letter(self) -> PaperLetter:
        """The typed metadata as the service takes it."""
        data = self.cleaned_data
        return PaperLetter(
            sender_name=data["sender_name"], letter_number=data["letter_number"], letter_date=data["letter_date"],
            subject=data["subject"], addressed_to=data["addressed_to"], urgency=Urgency(data["urgency"]),
            secrecy=Secrecy(data["secrecy"]),
        )

    def scans(self) -> list[tuple[bytes, str]]:
        """The scan files as (content, content type); the type is sniffed from the content, not trusted."""
        result = []
        for upload in self.cleaned_data["scan"]:
            data = upload.read()
            result.append((data, _sniff(data, upload.content_type or "")))
        return result


def _sniff(data: bytes, claimed: str) -> str:
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    return claimed if claimed not in SCAN_TYPES else "application/octet-stream"


def assignment_targets(organisation: Organisation) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """The units of the receiving organisation and its people, for the endorsement's assignments."""
    ids = unit_ids_under({organisation.pk})
    units = list(Organisation.objects.filter(pk__in=ids, is_active=True).order_by("name_th").values_list(
        "pk", "name_th")[:500])
    people = [(p.pk, f"{p.name} — {p.position}" if p.position else p.name)
              for p in people_with_roles(organisation, *Role)][:500]
    return units, people


class EndorseForm(BilingualForm):
    """เกษียนหนังสือ: the instruction and up to three assignments (a unit or a person, optional due date)."""

    labels = {"instruction": ("ข้อสั่งการ", "Instruction")}
    instruction = forms.CharField(max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, request: HttpRequest, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, request=request, **kwargs)
        self.units, self.people = assignment_targets(organisation)
        choices: list[Any] = [("", self.t("— ไม่มอบหมาย —", "— no one —")),
                              (self.t("หน่วยงาน", "Units"), [(f"u{pk}", name) for pk, name in self.units]),
                              (self.t("บุคคล", "People"), [(f"p{pk}", name) for pk, name in self.people])]
        for i in range(1, ASSIGNMENT_ROWS + 1):
            self.fields[f"assign_{i}"] = forms.ChoiceField(
                required=False, choices=choices, label=self.t(f"มอบหมายรายที่ {i}", f"Assign ({i})"))
            self.fields[f"due_{i}"] = forms.CharField(
                required=False, max_length=20, widget=thai_date_widget(request),
                label=self.t("กำหนดเสร็จ (พ.ศ.)", "Due (B.E.)"))

    def clean(self) -> dict[str, Any]:
        """Parse the due dates (d/m/พ.ศ.)."""
        data = super().clean() or {}
        for i in range(1, ASSIGNMENT_ROWS + 1):
            try:
                data[f"due_{i}"] = parse_be_date(self, data.get(f"due_{i}", "") or "")
            except forms.ValidationError as exc:
                self.add_error(f"due_{i}", exc)
        return data

    def assignments(self) -> list[AssignTo]:
        """The chosen assignments, in order, as the service takes them."""
        data = self.cleaned_data
        picks = [(data.get(f"assign_{i}") or "", data.get(f"due_{i}")) for i in range(1, ASSIGNMENT_ROWS + 1)]
        unit_ids = [int(v[1:]) for v, _ in picks if v.startswith("u")]
        person_ids = [int(v[1:]) for v, _ in picks if v.startswith("p")]
        units = Organisation.objects.in_bulk(unit_ids)
        people = Person.objects.in_bulk(person_ids)
        result = []
        for value, due in picks:
            if value.startswith("u") and int(value[1:]) in units:
                result.append(AssignTo(unit=units[int(value[1:])], due_date=due))
            elif value.startswith("p") and int(value[1:]) in people:
                result.append(AssignTo(person=people[int(value[1:])], due_date=due))
        return result


class NoteForm(BilingualForm):
    """ดำเนินการแล้ว: what was done about an assignment."""

    labels = {"note": ("ผลการดำเนินการ", "What was done")}
    note = forms.CharField(max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 2}))
