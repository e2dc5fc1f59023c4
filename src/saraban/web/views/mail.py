"""อีเมลกลาง (the 2021 amendment's central e-mail channel): the administrators' accounts; the registry's e-mails.

- ``/network/mail/``: each organisation's central mailbox account (system administrators see every
  one, organisation administrators those of the organisations they administer): add or edit one
  (the passwords and the DKIM key are never shown; left empty they stay as stored), suspend, resume.
- ``/network/mail/outbound/<pk>/send-again/``: the registry sends a letter's e-mail that was refused,
  bounced or given up again (a button of the queue page's "ส่งทางอีเมล" section, built here too).
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from saraban.access.policy import organisations_with_role
from saraban.core.errors import FieldProblem, SarabanError, ValidationFailed
from saraban.core.thai import arabic_digits
from saraban.correspondence.permissions import REGISTRY
from saraban.directory.models import Organisation, Person, Role, RoleAssignment
from saraban.directory.selectors import unit_ids_under
from saraban.mail.models import MailAccount, OutboundStatus, Security
from saraban.mail.selectors import accounts, outbound_of, quarantined
from saraban.mail.services import MailSettings, configure, send_again, set_active
from saraban.web.i18n import text
from saraban.web.views.directory import is_sys_admin
from saraban.web.views.ecms import words_in

PAGE = "/network/mail/"
QUEUE_PAGE = "/network/queue/"
QUEUE_ROWS = 50
TEXT_FIELDS = ("organisation", "address", "smtp_host", "smtp_port", "smtp_security", "smtp_username", "imap_host",
               "imap_port", "imap_security", "imap_username", "imap_folder", "dkim_domain", "dkim_selector")
SECRET_FIELDS = ("smtp_password", "imap_password", "dkim_private_key_pem")  # never shown, empty = keep
AGAIN = (OutboundStatus.REFUSED, OutboundStatus.BOUNCED, OutboundStatus.GIVEN_UP)
_THAI = re.compile("[\u0e00-\u0e7f]")


def _person(request: HttpRequest) -> Person:
    assert isinstance(request.user, Person)
    return request.user


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "web/forbidden.html", {
        "reason": text(request, "เฉพาะผู้ดูแลระบบหรือผู้ดูแลหน่วยงานตั้งค่าอีเมลกลางของหน่วยงานได้",
                       "Only system or organisation administrators set up the organisations' central e-mail"),
        "back": "/", "back_label": text(request, "กลับหน้าแรก", "Back home"),
    }, status=403)


def mail_words(request: HttpRequest, words: str) -> str:
    """The request's half of a mail error stored as "ไทย / English: the server's words".

    The server's words (after the English label's colon) belong to both halves: the Thai half keeps
    them ("ผู้รับถูกปฏิเสธ: 550 5.1.1 …"). Any other text is split as ``words_in`` does.
    """
    thai, sep, rest = words.partition(" / ")
    label, colon, detail = rest.partition(": ")
    if sep and _THAI.search(thai) and label and not _THAI.search(label):
        return text(request, f"{thai}{colon}{detail}", rest)
    return words_in(request, words)


def _administered(person: Person) -> set[int] | None:
    """The organisations whose accounts ``person`` administers: None for all (a system administrator)."""
    if is_sys_admin(person):
        return None
    return organisations_with_role(person, Role.ORG_ADMIN)


def _accounts_of(scope: set[int] | None) -> QuerySet[MailAccount]:
    return accounts() if scope is None else accounts().filter(organisation_id__in=scope)


def _choosable(scope: set[int] | None, with_account: set[int]) -> list[Organisation]:
    """Organisations of this deployment (no ``home_deployment``) the person may give an account, by name."""
    rows = Organisation.objects.filter(Q(is_active=True) | Q(pk__in=with_account), home_deployment="").order_by(
        "name_th")
    return list(rows if scope is None else rows.filter(pk__in=scope))


def _hosted_ids() -> set[int]:
    """Organisations someone works in here: where a role is held, the units below and the organisations above.

    An organisation outside them with a central address is one the channel reaches by e-mail; giving
    it an account here would make it "ours" (``mail.channel.hosted_here``) and stop its letters.
    """
    held = set(RoleAssignment.objects.values_list("organisation_id", flat=True))
    parents = dict(Organisation.objects.filter(parent__isnull=False).values_list("pk", "parent_id"))
    above: set[int] = set()
    for pk in held:
        while pk in parents and parents[pk] not in above:
            pk = parents[pk]
            above.add(pk)
    return unit_ids_under(held) | above


def _port(value: str) -> int:
    """A typed port (Thai digits too); 0, which the service refuses in its words, for anything else."""
    digits = arabic_digits(value).strip()
    return int(digits) if digits.isdigit() and len(digits) <= 5 else 0


def _address(value: str) -> str:
    """A typed address; "" (refused by the service in its words) when it is no e-mail address at all."""
    try:
        validate_email(value)
    except ValidationError:
        return ""
    return value


def _settings(form: dict[str, str], secrets: dict[str, str]) -> MailSettings:
    """What was typed as the service's settings: what cannot be read as a port or an address is given as one
    the service refuses, so that every wrong field is told at once (and nothing is saved)."""
    pem = secrets["dkim_private_key_pem"].strip()
    return MailSettings(
        address=_address(form["address"]), smtp_host=form["smtp_host"], smtp_port=_port(form["smtp_port"]),
        smtp_security=form["smtp_security"], smtp_username=form["smtp_username"],
        smtp_password=secrets["smtp_password"] or None, imap_host=form["imap_host"], imap_port=_port(form["imap_port"]),
        imap_security=form["imap_security"], imap_username=form["imap_username"],
        imap_password=secrets["imap_password"] or None, imap_folder=form["imap_folder"] or "INBOX",
        dkim_domain=form["dkim_domain"], dkim_selector=form["dkim_selector"],
        dkim_private_key_pem=f"{pem}\n" if pem else None,
    )


def _form_of(account: MailAccount | None) -> dict[str, str]:
    if account is None:
        return {**dict.fromkeys(TEXT_FIELDS, ""), "smtp_port": "587", "smtp_security": Security.STARTTLS,
                "imap_port": "993", "imap_security": Security.SSL, "imap_folder": "INBOX"}
    return {name: str(account.organisation_id if name == "organisation" else getattr(account, name))
            for name in TEXT_FIELDS}


@login_required
def mail_page(request: HttpRequest) -> HttpResponse:
    """อีเมลกลางของหน่วยงาน: the accounts the person administers; add or edit one."""
    person = _person(request)
    scope = _administered(person)
    if scope is not None and not scope:
        return _forbidden(request)
    rows = list(_accounts_of(scope))
    with_account = {a.organisation_id for a in rows}
    choosable = _choosable(scope, with_account)
    editing = None
    if request.GET.get("edit"):
        editing = next((a for a in rows if str(a.pk) == request.GET["edit"]), None)
        if editing is None:
            raise Http404("no such account")  # or not one the person administers: its existence is not told
    form = _form_of(editing)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        form = {name: (request.POST.get(name) or "").strip()[:255] for name in TEXT_FIELDS}
        secrets = {name: (request.POST.get(name) or "")[:20_000] for name in SECRET_FIELDS}
        organisation = next((o for o in choosable if str(o.pk) == form["organisation"]), None)
        if organisation is None and form["organisation"]:
            raise Http404("no such organisation")  # not one the person administers
        editing = next((a for a in rows if organisation and a.organisation_id == organisation.pk), None)
        try:
            if organisation is None:
                raise ValidationFailed([FieldProblem("organisation", "required", "เลือกหน่วยงาน",
                                                     "Choose the organisation")])
            configure(organisation, _settings(form, secrets), actor=person)
        except SarabanError as exc:
            for problem in exc.problems or [FieldProblem("", exc.code, exc.message_th, exc.message_en)]:
                field = problem.field if problem.field in form or problem.field in SECRET_FIELDS else ""
                errors.setdefault(field, []).append(
                    text(request, problem.message_th, problem.message_en))
            typed = [name for name in SECRET_FIELDS if secrets[name]]
            again = text(request, " รหัสผ่านและกุญแจที่พิมพ์ไว้ไม่ได้บันทึก ให้พิมพ์อีกครั้ง",
                         " The passwords and key typed were not saved: type them again.") if typed else ""
            messages.error(request, text(request, "ยังไม่ได้บันทึก: ข้อมูลบางช่องไม่ถูกต้อง ดูข้อความสีแดงใต้ช่องนั้น",
                                         "Not saved: some fields are wrong, see the red notes under them") + again)
        else:
            assert organisation is not None
            messages.success(request, text(
                request, f"{'แก้ไข' if editing else 'บันทึก'}บัญชีอีเมลกลางของ {organisation.name_th} แล้ว",
                f"The central e-mail account of {organisation.name_en or organisation.name_th} is "
                f"{'updated' if editing else 'saved'}"))
            return HttpResponseRedirect(PAGE)
    hosted = _hosted_ids() if scope is None else set()
    return render(request, "web/network/mail.html", {
        "rows": [(a, mail_words(request, a.last_error)) for a in rows],
        "ours": [o for o in choosable if scope is not None or o.pk in hosted or o.pk in with_account],
        "elsewhere": [o for o in choosable if scope is None and o.pk not in hosted and o.pk not in with_account],
        "form": form, "errors": errors, "general": errors.get("", []), "editing": editing,
        "form_open": editing is not None or request.method == "POST" or not rows,
        "with_account": with_account,
        "securities": Security.choices, "sys_admin": scope is None,
    })


@require_POST
@login_required
def switch(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """ระงับ / เปิดใช้: stop or restart sending and reading through this account."""
    person = _person(request)
    scope = _administered(person)
    if scope is not None and not scope:
        return _forbidden(request)
    if action not in ("suspend", "resume"):
        raise Http404
    account = get_object_or_404(_accounts_of(scope), pk=pk)  # 404: not one the person administers
    try:
        set_active(account, action == "resume", actor=person)
    except SarabanError as exc:
        messages.error(request, text(request, exc.message_th, exc.message_en))
    else:
        name = account.organisation.name_th
        messages.success(request, text(
            request, f"{'เปิดใช้' if action == 'resume' else 'ระงับ'}บัญชีอีเมลกลางของ {name} แล้ว"
                     f"{'' if action == 'resume' else ' ระบบจะไม่ส่งและไม่อ่านอีเมลของบัญชีนี้จนกว่าจะเปิดใช้'}",
            f"{name}'s central e-mail account {'resumed' if action == 'resume' else 'suspended'}"))
    return HttpResponseRedirect(PAGE)


@require_POST
@login_required
def outbound_send_again(request: HttpRequest, pk: int) -> HttpResponse:
    """ส่งอีกครั้ง: a letter's e-mail that was refused, bounced or given up, as a new message."""
    person = _person(request)
    organisations = organisations_with_role(person, *REGISTRY)
    row = get_object_or_404(outbound_of(organisations), pk=pk)
    if row.dispatch_id is not None and outbound_of(organisations).filter(
            dispatch_id=row.dispatch_id, kind="letter", pk__gt=row.pk).exists():
        messages.error(request, text(
            request, "หนังสือฉบับนี้ส่งทางอีเมลอีกครั้งไปแล้ว ดูรายการล่าสุดในตาราง “ส่งทางอีเมล”",
            "This letter was already e-mailed again: see its latest row under “Sent by e-mail”"))
        return HttpResponseRedirect(QUEUE_PAGE)
    try:
        again = send_again(row, actor=person)
    except SarabanError as exc:
        details = [text(request, p.message_th, p.message_en) for p in exc.problems]
        messages.error(request, "; ".join(details) if details else text(request, exc.message_th, exc.message_en))
    else:
        number = row.dispatch.letter.number if row.dispatch else ""
        messages.success(request, text(request, f"นำหนังสือ {number} เข้าคิวส่งทางอีเมลถึง {again.recipient} อีกครั้งแล้ว",
                                       f"Letter {number} is queued for e-mail to {again.recipient} again"))
    return HttpResponseRedirect(QUEUE_PAGE)  # at its top, where the message is


RECEIPT_WORDS = {"registered": ("แจ้งเลขรับ", "Receipt number"), "returned": ("แจ้งส่งคืน", "Returned")}


def mail_queue(request: HttpRequest, organisations: set[int]) -> dict[str, object]:
    """ส่งทางอีเมล: the latest e-mails the organisations sent, and the messages their mailboxes quarantined."""
    rows = list(outbound_of(organisations).select_related("inbound")[:QUEUE_ROWS])
    kept_out = list(quarantined(organisations)[:QUEUE_ROWS])
    latest: set[int] = set()  # the newest letter row of each dispatch: the one "ส่งอีกครั้ง" acts on
    seen: set[int] = set()
    for row in rows:
        if row.kind == "letter" and row.dispatch_id and row.dispatch_id not in seen:
            seen.add(row.dispatch_id)
            latest.add(row.pk)
    mail_rows = []
    for row in rows:
        if row.status == OutboundStatus.SENT:
            said = row.smtp_reply
        elif row.status == OutboundStatus.BOUNCED:
            said = row.bounce_reason or mail_words(request, row.last_error)
        else:
            said = mail_words(request, row.last_error)
        mail_rows.append({
            "row": row, "said": said, "latest": row.pk in latest,
            "again": row.kind == "letter" and row.pk in latest and row.status in AGAIN,
            "receipt": RECEIPT_WORDS.get(row.receipt_status, (row.receipt_status, row.receipt_status)),
        })
    return {
        "mail_shown": bool(rows or kept_out) or accounts().filter(organisation_id__in=organisations).exists(),
        "mail_rows": mail_rows,
        "mail_quarantined": [{"item": m, "detail": mail_words(request, m.detail)} for m in kept_out],
    }
