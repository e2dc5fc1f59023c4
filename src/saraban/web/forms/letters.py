"""Forms of outgoing letters: the editor (fields by letter type, recipients), submission and the actions."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from asn1crypto import x509 as asn1_x509
from django import forms
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from saraban.access.policy import today
from saraban.core.thai import format_thai_date
from saraban.correspondence.models import Letter, RecipientKind
from saraban.directory.models import Organisation, OrganisationKind, Person, Role, RoleAssignment
from saraban.directory.selectors import recipient_organisations, unit_ids_under
from saraban.regulation.content import LetterContent
from saraban.regulation.kinds import SUBTYPES, LetterSubtype, LetterType, Secrecy, Urgency
from saraban.signatures.models import KeyLocation, SigningCertificate
from saraban.signatures.registry import common_name

from .base import BilingualForm

URGENCY_LABELS = {"normal": ("ปกติ", "Normal"), "urgent": ("ด่วน", "Urgent"),
                  "very_urgent": ("ด่วนมาก", "Very urgent"), "most_urgent": ("ด่วนที่สุด", "Most urgent")}
SECRECY_LABELS = {"normal": ("ปกติ", "Not classified"), "confidential": ("ลับ", "Confidential"),
                  "secret": ("ลับมาก", "Secret"), "top_secret": ("ลับที่สุด", "Top secret")}
# Which optional fields each letter type shows (the rest of the editor is common to all types).
LETTER_FIELDS: dict[LetterType, tuple[str, ...]] = {
    LetterType.EXTERNAL: ("salutation", "recipient", "references", "enclosures", "closing", "owner_unit", "phone",
                          "email", "circular"),
    LetterType.INTERNAL: ("salutation", "recipient", "references", "enclosures", "owner_unit", "phone", "circular"),
    LetterType.STAMPED: ("recipient", "references", "enclosures", "owner_unit", "phone", "email", "circular"),
    LetterType.DIRECTIVE: (),
    LetterType.PUBLIC_RELATIONS: (),
    LetterType.RECORD: ("salutation", "recipient", "references", "enclosures", "owner_unit", "phone"),
}
# Service field paths → editor fields, so problems appear next to the right box.
PROBLEM_FIELDS = {"signer.name": "signer_person", "signer.position": "signer_person", "signer": "signer_person",
                  "enclosures": "enclosures", "references": "references", "reviewers": "reviewer_1"}
_BLANK_LINE = re.compile(r"\n\s*\n")


@dataclass(frozen=True)
class Candidate:
    """A person offered in a choice list, with the position printed under their name."""

    pk: int
    name: str
    position: str


def people_with_roles(organisation: Organisation, *roles: Role) -> list[Candidate]:
    """People holding one of ``roles`` today in ``organisation``, a unit of it, or above it; by name."""
    on = today()
    above: set[int] = set()
    node: Organisation | None = organisation
    while node is not None:
        above.add(node.pk)
        node = node.parent
    rows = RoleAssignment.objects.filter(
        organisation_id__in=unit_ids_under({organisation.pk}) | above, role__in=roles,
    ).filter(Q(valid_from__isnull=True) | Q(valid_from__lte=on), Q(valid_until__isnull=True) | Q(valid_until__gte=on)
             ).select_related("person").order_by("person__name_th")
    seen: dict[int, Candidate] = {}
    for row in rows:
        if row.person.is_active and row.person_id not in seen:
            seen[row.person_id] = Candidate(row.person_id, row.person.display_name, row.position_title)
    return list(seen.values())


def issuer_for(organisation: Organisation, letter_type: LetterType) -> dict[str, str]:
    """Who a letter of ``organisation`` is issued by: a unit (กอง) writes in its department's name and address.

    An internal memo carries the unit's own name; every letter carries the unit's letter code
    (e.g. นร 0105.04) when it has one, else the department's.
    """
    issuing = organisation
    while issuing.kind == OrganisationKind.DIVISION and issuing.parent is not None:
        issuing = issuing.parent
    return {
        "name": organisation.name_th if letter_type is LetterType.INTERNAL else issuing.name_th,
        "address": organisation.address or issuing.address,
        "letter_code": organisation.letter_code or issuing.letter_code,
    }


MAX_RECIPIENTS = 1000  # organisations in one of ส่งถึง / สำเนาส่ง (a circular to every LAO of a province fits)
_MAX_ID = 2**63 - 1


def organisation_id(value: Any) -> int:
    """An organisation's id as posted (``ValueError`` for anything that cannot be one)."""
    digits = str(value).strip()
    if not (digits.isascii() and digits.isdigit() and len(digits) <= 19) or not 0 < int(digits) <= _MAX_ID:
        raise ValueError(f"not an organisation id: {digits[:30]!r}")
    return int(digits)


class RecipientSelect(forms.SelectMultiple):
    """The organisations chosen, as the options (all selected) of a multiple select.

    Each option carries its letter code (``data-code``) and, for an organisation of another
    deployment, ``data-remote``; saraban.js turns the select into chips and a search box.
    """

    def __init__(self, attrs: dict[str, Any] | None = None, details: dict[str, dict[str, str]] | None = None) -> None:
        super().__init__(attrs)
        self.details = details or {}

    def create_option(self, name: str, value: Any, label: Any, selected: Any, index: int,
                      subindex: int | None = None, attrs: dict[str, Any] | None = None) -> dict[str, Any]:
        """An option with the organisation's code and remote mark."""
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        option["attrs"].update(self.details.get(str(value), {}))
        return option


class RecipientField(forms.TypedMultipleChoiceField):
    """ส่งถึง / สำเนาส่ง: organisations by id, checked with one query against those the sender may address.

    It has no list of choices to check against (the directory may have thousands of organisations):
    ``eligible`` is the query; the choices are only the organisations chosen, for the page to show.
    """

    default_error_messages = {"too_many": f"Choose at most {MAX_RECIPIENTS} organisations"}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(coerce=organisation_id, required=False, **kwargs)
        self.eligible: QuerySet[Organisation] = Organisation.objects.none()

    def validate(self, value: Any) -> None:
        """Only "required" here: the ids are checked against ``eligible`` once they are numbers (``clean``)."""
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")

    def clean(self, value: Any) -> list[int]:
        """The ids chosen, each once, in order; every one of them an organisation the letter may go to."""
        ids = list(dict.fromkeys(super().clean(value) or []))
        if len(ids) > MAX_RECIPIENTS:
            raise forms.ValidationError(self.error_messages["too_many"], code="too_many")
        found = set(self.eligible.filter(pk__in=ids).order_by().values_list("pk", flat=True)) if ids else set()
        if any(i not in found for i in ids):
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice",
                                        params={"value": next(i for i in ids if i not in found)})
        return ids


def unit_names(organisation: Organisation) -> list[str]:
    """Names of the organisation and its units (suggestions for ส่วนราชการเจ้าของเรื่อง)."""
    ids = unit_ids_under({organisation.pk})
    return list(Organisation.objects.filter(pk__in=ids, is_active=True).order_by("name_th").values_list(
        "name_th", flat=True)[:300])


class LetterForm(BilingualForm):
    """The letter editor: the content fields of the chosen type, the signer and the recipients."""

    labels = {
        "subtype": ("ประเภทย่อย", "Subtype"), "subject": ("เรื่อง", "Subject"),
        "salutation": ("คำขึ้นต้น", "Salutation"), "recipient": ("เรียน / ถึง", "To (as printed)"),
        "references": ("อ้างถึง (บรรทัดละรายการ)", "References (one per line)"),
        "enclosures": ("สิ่งที่ส่งมาด้วย (บรรทัดละรายการ)", "Enclosures (one title per line)"),
        "body": ("ข้อความ (เว้นบรรทัดว่างระหว่างย่อหน้า)", "Body (a blank line between paragraphs)"),
        "closing": ("คำลงท้าย", "Closing"), "owner_unit": ("ส่วนราชการเจ้าของเรื่อง", "Unit in charge"),
        "phone": ("โทรศัพท์", "Telephone"), "email": ("ไปรษณีย์อิเล็กทรอนิกส์", "E-mail"),
        "urgency": ("ชั้นความเร็ว", "Urgency"), "secrecy": ("ชั้นความลับ", "Secrecy"),
        "circular": ("หนังสือเวียน", "Circular"), "signer_person": ("ผู้ลงนาม", "Signer"),
        "to": ("ส่งถึงหน่วยงาน", "Send to organisations"), "cc": ("สำเนาส่ง", "Copies to"),
    }

    type = forms.ChoiceField(choices=[(t.value, t.value) for t in LetterType], widget=forms.HiddenInput)
    subtype = forms.ChoiceField(required=False)
    subject = forms.CharField(max_length=2000, required=False)
    salutation = forms.CharField(max_length=200, required=False)
    recipient = forms.CharField(max_length=2000, required=False)
    references = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    enclosures = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    body = forms.CharField(required=False, max_length=100_000, widget=forms.Textarea(attrs={"rows": 9}))
    closing = forms.CharField(max_length=200, required=False)
    owner_unit = forms.CharField(max_length=500, required=False)
    phone = forms.CharField(max_length=100, required=False)
    email = forms.CharField(max_length=200, required=False)
    urgency = forms.ChoiceField()
    secrecy = forms.ChoiceField()
    circular = forms.BooleanField(required=False)
    signer_person = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    to = RecipientField()
    cc = RecipientField()

    def __init__(
        self, *args: Any, request: HttpRequest, organisation: Organisation, letter_type: LetterType, **kwargs: Any
    ) -> None:
        super().__init__(*args, request=request, **kwargs)
        self.organisation = organisation
        self.letter_type = letter_type
        lang_en = self.t("th", "en") == "en"
        self.signers = people_with_roles(organisation, Role.SIGNER)
        self._choice("subtype", [(s.value, s.label_en if lang_en else s.label_th) for s in SUBTYPES[letter_type]])
        self._choice("urgency", [(k, v[1] if lang_en else v[0]) for k, v in URGENCY_LABELS.items()])
        self._choice("secrecy", [(k, v[1] if lang_en else v[0]) for k, v in SECRECY_LABELS.items()])
        self._choice("signer_person", [("", "—")] + [
            (p.pk, f"{p.name} — {p.position}" if p.position else p.name) for p in self.signers])
        self._signer_from_content()
        self._recipient_fields()
        shown = {"type", "subtype", "subject", "body", "urgency", "secrecy", "signer_person", "to", "cc",
                 *LETTER_FIELDS[letter_type]}
        if not SUBTYPES[letter_type]:
            shown.discard("subtype")
        for name in list(self.fields):
            if name not in shown:
                del self.fields[name]
        self.fields["email"].widget = forms.EmailInput() if "email" in self.fields else forms.TextInput()

    def _recipient_fields(self) -> None:
        """ส่งถึง and สำเนาส่ง: checked against the organisations the sender may address, showing only
        the ones chosen (posted, or stored in the draft); saraban.js searches the rest as one types."""
        eligible = recipient_organisations(self.organisation)
        texts = {
            "data-recipients": f"/letters/recipients?for={self.organisation.pk}",
            "data-placeholder": self.t("พิมพ์ชื่อหรือรหัสหน่วยงานเพื่อค้นหา", "Type an organisation's name or code"),
            "data-remote-label": self.t("ระบบอื่น", "other deployment"),
            "data-remote-hint": self.t("หน่วยงานที่ใช้ระบบสารบรรณของหน่วยงานอื่น ส่งผ่านการแลกเปลี่ยนระหว่างระบบ",
                                       "Hosted by another Saraban deployment; sent through the exchange"),
            "data-none-label": self.t("ไม่พบหน่วยงานที่ตรงกับคำค้น", "No organisation matches"),
            "data-found-label": self.t("พบ {n} หน่วยงาน (ลูกศรขึ้นลงเพื่อเลือก Enter เพื่อเพิ่ม)",
                                       "{n} found (arrow keys to move, Enter to add)"),
            "data-added-label": self.t("เพิ่ม {name} แล้ว", "{name} added"),
            "data-removed-label": self.t("นำ {name} ออกแล้ว", "{name} removed"),
            "data-remove-label": self.t("นำออก", "Remove"),
            "data-error-label": self.t("ค้นหาไม่ได้ในขณะนี้ ลองอีกครั้ง", "The search failed; try again"),
            "data-chosen-label": self.t("หน่วยงานที่เลือกแล้ว", "organisations chosen"),
        }
        for name in ("to", "cc"):
            field = self.fields[name]
            assert isinstance(field, RecipientField)
            field.eligible = eligible
            field.error_messages["invalid_choice"] = self.t(
                "มีหน่วยงานที่หนังสือนี้ส่งถึงไม่ได้ (ไม่มีในทำเนียบ ถูกปิดใช้งาน หรือเป็นหน่วยงานภายในของหน่วยงานอื่น)",
                "An organisation chosen cannot receive this letter (not in the directory, inactive, or a unit of "
                "another organisation)",
            )
            field.error_messages["too_many"] = self.t(
                f"เลือกได้ไม่เกิน {MAX_RECIPIENTS} หน่วยงาน", f"Choose at most {MAX_RECIPIENTS} organisations")
            ids = self._chosen_ids(name)
            chosen = Organisation.objects.in_bulk(ids) if ids else {}
            shown = [chosen[i] for i in ids if i in chosen]
            field.widget = RecipientSelect(attrs={"size": 4, **texts}, details={
                str(o.pk): {"data-code": o.letter_code, **({"data-remote": "1"} if o.is_remote else {})}
                for o in shown
            })
            field.choices = [(o.pk, o.name_th) for o in shown]

    def _chosen_ids(self, name: str) -> list[int]:
        """The ids in ``name`` as posted (bound) or as the draft has them (initial); what is not an id is left out."""
        if self.is_bound:
            getlist = getattr(self.data, "getlist", None)
            raw = getlist(self.add_prefix(name)) if getlist else self.data.get(self.add_prefix(name)) or []
        else:
            raw = self.initial.get(name) or []
        ids: list[int] = []
        for value in (raw if isinstance(raw, list | tuple) else [raw])[:MAX_RECIPIENTS]:
            try:
                ids.append(organisation_id(value))
            except ValueError:
                continue
        return list(dict.fromkeys(ids))

    def _signer_from_content(self) -> None:
        """A saved draft names its signer only in its content (the person is set when it is submitted):
        choose that signer again, so that editing the draft keeps them (issue 17)."""
        if self.initial.get("signer_person") or not self.initial.get("signer_name"):
            return
        name, position = self.initial["signer_name"], self.initial.get("signer_position", "")
        found = [p for p in self.signers if p.name == name and (not position or p.position == position)]
        found = found or [p for p in self.signers if p.name == name]
        if found:
            self.initial["signer_person"] = found[0].pk

    def _choice(self, name: str, choices: list[Any]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices

    @staticmethod
    def initial_for(letter: Letter) -> dict[str, Any]:
        """The editor's initial values from a stored letter."""
        content = letter.letter_content
        recipients = list(letter.recipients.all())
        return {
            "type": content.type.value, "subtype": content.subtype.value if content.subtype else "",
            "subject": content.subject, "salutation": content.salutation, "recipient": content.recipient,
            "references": "\n".join(content.references),
            "enclosures": "\n".join(e.title for e in content.enclosures),
            "body": "\n\n".join(content.body), "closing": content.closing, "owner_unit": content.owner_unit,
            "phone": content.phone, "email": content.email, "urgency": content.urgency.value,
            "secrecy": content.secrecy.value, "circular": content.circular,
            "signer_person": letter.signer_id, "signer_name": content.signer.name,
            "signer_position": content.signer.position,
            "to": [r.organisation_id for r in recipients if r.kind == RecipientKind.TO],
            "cc": [r.organisation_id for r in recipients if r.kind == RecipientKind.CC],
        }

    @staticmethod
    def initial_new(letter_type: LetterType, organisation: Organisation) -> dict[str, Any]:
        """Sensible starting values for a new letter of ``letter_type`` written in ``organisation``."""
        initial: dict[str, Any] = {"type": letter_type.value, "urgency": "normal", "secrecy": "normal",
                                   "phone": organisation.phone}
        if organisation.kind == OrganisationKind.DIVISION:
            initial["owner_unit"] = organisation.name_th
        if letter_type in (LetterType.EXTERNAL, LetterType.INTERNAL):
            initial["salutation"] = "เรียน"
        if letter_type is LetterType.EXTERNAL:
            initial["closing"] = "ขอแสดงความนับถือ"
        return initial

    def signer(self) -> Candidate | None:
        """The signer chosen in the editor (a signer of the organisation), if any."""
        chosen = self.cleaned_data.get("signer_person")
        return next((p for p in self.signers if p.pk == chosen), None)

    def content(self, previous: dict[str, Any] | None = None) -> dict[str, Any]:
        """The letter content (``LetterContent`` JSON) the form describes, on top of ``previous``."""
        data = self.cleaned_data
        content: dict[str, Any] = {**(previous or {}), "type": self.letter_type.value}
        content["issuer"] = issuer_for(self.organisation, self.letter_type)
        content["subtype"] = data.get("subtype") or None
        for name in ("subject", "salutation", "recipient", "closing", "owner_unit", "phone", "email"):
            if name in self.fields:
                content[name] = data.get(name, "").strip()
        content["urgency"] = data.get("urgency") or Urgency.NORMAL.value
        content["secrecy"] = data.get("secrecy") or Secrecy.NORMAL.value
        content["circular"] = bool(data.get("circular"))
        if "references" in self.fields:
            content["references"] = _lines(data.get("references", ""))
        if "enclosures" in self.fields:
            kept = {e.get("title"): e for e in (previous or {}).get("enclosures", [])}
            content["enclosures"] = [kept.get(t, {"title": t}) for t in _lines(data.get("enclosures", ""))]
        content["body"] = [p.strip() for p in _BLANK_LINE.split(data.get("body", "").replace("\r", "")) if p.strip()]
        signer = self.signer()
        old_signer = (previous or {}).get("signer", {}) or {}
        content["signer"] = {**old_signer, "name": signer.name if signer else "",
                             "position": signer.position if signer else ""}
        return content

    def preview_content(self) -> LetterContent:
        """What the letter would look like now: the content with the issuing organisation filled in."""
        content = self.content()
        org = self.organisation
        content["phone"] = content.get("phone") or org.phone or (org.parent.phone if org.parent else "")
        content["digits"] = "thai" if org.thai_digits else "arabic"
        if content["subtype"] is None and SUBTYPES[self.letter_type]:
            content["subtype"] = SUBTYPES[self.letter_type][0].value
        return LetterContent.model_validate(content)

    def recipients(self) -> tuple[list[Organisation], list[Organisation]]:
        """The organisations chosen as recipients and as copies, in the order of the lists."""
        to_ids, cc_ids = self.cleaned_data.get("to") or [], self.cleaned_data.get("cc") or []
        by_id = Organisation.objects.in_bulk([*to_ids, *cc_ids])
        return [by_id[i] for i in to_ids if i in by_id], [by_id[i] for i in cc_ids if i in by_id and i not in to_ids]


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.replace("\r", "").split("\n") if line.strip()]


def letter_type_from(value: str | None) -> LetterType:
    """The letter type asked for (``?type=external``); external when unknown."""
    try:
        return LetterType(value or LetterType.EXTERNAL.value)
    except ValueError:
        return LetterType.EXTERNAL


def subtype_needed(letter_type: LetterType) -> tuple[LetterSubtype, ...]:
    """The subtypes a letter type offers (empty when it has none)."""
    return SUBTYPES[letter_type]


class SubmitForm(BilingualForm):
    """ส่งตรวจ: reviewers in order (up to three) and the signer."""

    labels = {"reviewer_1": ("ผู้ตรวจลำดับที่ 1", "Reviewer 1"), "reviewer_2": ("ผู้ตรวจลำดับที่ 2", "Reviewer 2"),
              "reviewer_3": ("ผู้ตรวจลำดับที่ 3", "Reviewer 3"), "signer": ("ผู้ลงนาม", "Signer")}
    reviewer_1 = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    reviewer_2 = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    reviewer_3 = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    signer = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)

    def __init__(self, *args: Any, request: HttpRequest, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, request=request, **kwargs)
        reviewers = people_with_roles(organisation, Role.REVIEWER, Role.SIGNER)
        signers = self.signers = people_with_roles(organisation, Role.SIGNER)
        none = [("", self.t("— ไม่มี —", "— none —"))]
        for name in ("reviewer_1", "reviewer_2", "reviewer_3"):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = none + [(p.pk, f"{p.name} — {p.position}" if p.position else p.name) for p in reviewers]
        signer_field = self.fields["signer"]
        assert isinstance(signer_field, forms.ChoiceField)
        signer_field.choices = [("", "—")] + [
            (p.pk, f"{p.name} — {p.position}" if p.position else p.name) for p in signers]

    def chosen(self) -> tuple[list[Person], Person | None]:
        """The reviewers in order (each once) and the signer."""
        ids = [self.cleaned_data.get(f"reviewer_{i}") for i in (1, 2, 3)]
        wanted = [i for n, i in enumerate(ids) if i is not None and i not in ids[:n]]
        signer_id = self.cleaned_data.get("signer")
        people = Person.objects.in_bulk([*wanted, *([signer_id] if signer_id else [])])
        return [people[i] for i in wanted if i in people], people.get(signer_id) if signer_id else None


class CommentForm(BilingualForm):
    """A reviewer's decision with a comment (required to return a letter)."""

    labels = {"comment": ("ความเห็น", "Comment")}
    comment = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))


class SignForm(BilingualForm):
    """ลงนาม: with a registered certificate (PAdES) or by typed name; the signer proves it is them.

    The proof is the PKCS#12 file's password, the token's PIN, or (typed name, organisation seal) the
    signer's own sign-in password. It is used for this signature only and never kept.
    """

    labels = {"how": ("ลงนามด้วย", "Sign with"), "password": ("รหัสผ่านหรือ PIN", "Password or PIN")}
    how = forms.ChoiceField(widget=forms.RadioSelect, required=False)  # missing: the typed name
    password = forms.CharField(strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "off"}))

    def __init__(self, *args: Any, request: HttpRequest, certificates: Sequence[SigningCertificate] = (),
                 **kwargs: Any) -> None:
        super().__init__(*args, request=request, **kwargs)
        self.certificates = {f"cert-{c.pk}": c for c in certificates}
        choices = [(key, self._certificate_label(c)) for key, c in self.certificates.items()]
        choices.append(("typed", self.t(
            "พิมพ์ชื่อในระบบ (ใส่รหัสผ่านเข้าระบบของท่าน)", "Typed name in this system (enter your sign-in password)"
        )))
        field = self.fields["how"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices
        field.initial = choices[0][0]

    def _certificate_label(self, certificate: SigningCertificate) -> str:
        expires = format_thai_date(timezone.localtime(certificate.not_after).date(), use_thai_digits=False)
        name = common_name(asn1_x509.Certificate.load(bytes(certificate.certificate)).subject)
        if certificate.key_location == KeyLocation.SEAL:
            return self.t(f"ตราประทับอิเล็กทรอนิกส์ของหน่วยงาน: {name} (หมดอายุ {expires}) — ใส่รหัสผ่านเข้าระบบของท่าน",
                          f"The organisation's seal: {name} (expires {expires}) — enter your sign-in password")
        if certificate.key_location == KeyLocation.TOKEN:
            return self.t(f"ลายมือชื่อดิจิทัลในโทเคน: {name} (หมดอายุ {expires}) — ใส่ PIN ของโทเคน",
                          f"Digital signature on a token: {name} (expires {expires}) — enter the token's PIN")
        return self.t(f"ลายมือชื่อดิจิทัล: {name} (หมดอายุ {expires}) — ใส่รหัสผ่านไฟล์ใบรับรอง",
                      f"Digital signature: {name} (expires {expires}) — enter the certificate file's password")

    def chosen_certificate(self) -> SigningCertificate | None:
        """The certificate chosen, or ``None`` for the typed-name signature."""
        return self.certificates.get(self.cleaned_data.get("how") or "typed")


class BatchSignForm(SignForm):
    """ลงนามหลายฉบับ: the letters to sign, how, and one password or PIN for all of them."""

    labels = {**SignForm.labels, "letters": ("หนังสือที่จะลงนาม", "Letters to sign")}
    letters = forms.TypedMultipleChoiceField(coerce=int, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, request: HttpRequest, letters: Sequence[Letter] = (),
                 certificates: Sequence[SigningCertificate] = (), **kwargs: Any) -> None:
        super().__init__(*args, request=request, certificates=certificates, **kwargs)
        field = self.fields["letters"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        field.choices = [(letter.pk, letter.subject) for letter in letters]
        field.error_messages["invalid_choice"] = self.t(
            "มีหนังสือที่ไม่ได้รอการลงนามของท่านแล้ว โปรดเลือกใหม่", "A letter no longer awaits your signature; choose again"
        )
        field.error_messages["required"] = self.t(
            "เลือกหนังสือที่จะลงนามอย่างน้อยหนึ่งฉบับ", "Choose at least one letter to sign"
        )


class ReasonForm(BilingualForm):
    """A reason (to cancel a letter or return an incoming one)."""

    labels = {"reason": ("เหตุผล", "Reason")}
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
