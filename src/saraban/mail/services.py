"""Writes of the e-mail channel: an organisation's central mailbox account (secrets sealed), suspending it,
sending a letter's e-mail again."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.serialization import load_pem_private_key
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction

from saraban.access.policy import has_role
from saraban.audit.services import record_event
from saraban.core.errors import FieldProblem, ValidationFailed
from saraban.core.secrets import seal
from saraban.correspondence.permissions import REGISTRY
from saraban.directory.models import Organisation, Person, Role
from saraban.documents.services import read_file
from saraban.exchange.delivery import OutgoingLetter
from saraban.exchange.dispatches import restart_dispatch

from .composing import DKIM_PURPOSE
from .models import MailAccount, MailOutbound, OutboundStatus, Security
from .receiving import IMAP_PASSWORD
from .sending import SMTP_PASSWORD, queue_letter


@dataclass(frozen=True)
class MailSettings:
    """What an administrator gives for a central mailbox; a password or key left None keeps the one stored."""

    address: str
    smtp_host: str
    smtp_port: int = 587
    smtp_security: str = Security.STARTTLS
    smtp_username: str = ""
    smtp_password: str | None = None
    imap_host: str = ""
    imap_port: int = 993
    imap_security: str = Security.SSL
    imap_username: str = ""
    imap_password: str | None = None
    imap_folder: str = "INBOX"
    dkim_domain: str = ""
    dkim_selector: str = ""
    dkim_private_key_pem: str | None = None


def _problems(values: MailSettings) -> list[FieldProblem]:
    problems = []
    try:
        validate_email(values.address.strip())
        valid_address = True
    except DjangoValidationError:
        valid_address = False
    if not valid_address:
        problems.append(FieldProblem("address", "invalid", "ที่อยู่อีเมลกลางไม่ถูกต้อง", "The central address is not valid"))
    if not values.smtp_host.strip():
        problems.append(FieldProblem("smtp_host", "required", "ต้องระบุเครื่องบริการส่งอีเมล (SMTP)",
                                     "Give the outgoing (SMTP) server"))
    for field, port in (("smtp_port", values.smtp_port), ("imap_port", values.imap_port)):
        if not 0 < port < 65536:
            problems.append(FieldProblem(field, "invalid", "หมายเลขพอร์ตไม่ถูกต้อง", "The port number is not valid"))
    for field, security in (("smtp_security", values.smtp_security), ("imap_security", values.imap_security)):
        if security not in Security.values:
            problems.append(FieldProblem(field, "invalid", "รูปแบบการเข้ารหัสไม่ถูกต้อง", "Unknown security"))
    if values.dkim_private_key_pem:
        try:
            load_pem_private_key(values.dkim_private_key_pem.encode(), password=None)
        except (ValueError, TypeError):
            problems.append(FieldProblem("dkim_private_key_pem", "invalid", "กุญแจ DKIM ไม่ใช่กุญแจส่วนตัวแบบ PEM",
                                         "The DKIM key is not a PEM private key"))
    if bool(values.dkim_domain) != bool(values.dkim_selector):
        problems.append(FieldProblem("dkim_selector", "required", "ต้องระบุทั้งโดเมนและ selector ของ DKIM",
                                     "Give both the DKIM domain and selector"))
    return problems


def configure(organisation: Organisation, values: MailSettings, *, actor: Person | None) -> MailAccount:
    """Set an organisation's central mailbox account; passwords and the DKIM key are sealed, never kept in clear."""
    if actor is not None and not has_role(actor, organisation.pk, Role.ORG_ADMIN):
        raise ValidationFailed([FieldProblem("organisation", "forbidden", "เฉพาะผู้ดูแลหน่วยงานหรือผู้ดูแลระบบ",
                                             "Only the organisation's or the system's administrator")])
    problems = _problems(values)
    if problems:
        raise ValidationFailed(problems)
    with transaction.atomic():
        account = MailAccount.objects.filter(organisation=organisation).first() or \
            MailAccount(organisation=organisation)
        for field in ("address", "smtp_host", "smtp_port", "smtp_security", "smtp_username", "imap_host",
                      "imap_port", "imap_security", "imap_username", "imap_folder", "dkim_domain", "dkim_selector"):
            value = getattr(values, field)
            setattr(account, field, value.strip() if isinstance(value, str) else value)
        if values.smtp_password is not None:
            account.smtp_password_sealed = seal(values.smtp_password, SMTP_PASSWORD)
        if values.imap_password is not None:
            account.imap_password_sealed = seal(values.imap_password, IMAP_PASSWORD)
        if values.dkim_private_key_pem is not None:
            account.dkim_key_sealed = seal(values.dkim_private_key_pem, DKIM_PURPOSE)
        account.save()
        # What changed, never the secrets: only whether one is set.
        record_event("mail.configured", object_type="mail_account", object_id=account.pk,
                     organisation_id=organisation.pk, actor=actor,
                     after={"address": account.address, "smtp": f"{account.smtp_host}:{account.smtp_port}",
                            "imap": f"{account.imap_host}:{account.imap_port}" if account.imap_host else "",
                            "smtp_password_set": bool(account.smtp_password_sealed),
                            "imap_password_set": bool(account.imap_password_sealed),
                            "dkim": bool(account.dkim_key_sealed)})
    return account


def set_active(account: MailAccount, active: bool, *, actor: Person | None) -> MailAccount:
    """Suspend (nothing is sent or read) or resume an organisation's central mailbox account, audited."""
    with transaction.atomic():
        before = {"is_active": account.is_active}
        account.is_active = active
        account.save(update_fields=["is_active"])
        record_event("mail.resumed" if active else "mail.suspended", object_type="mail_account", object_id=account.pk,
                     organisation_id=account.organisation_id, actor=actor, before=before, after={"is_active": active})
    return account


def send_again(row: MailOutbound, *, actor: Person) -> MailOutbound:
    """ส่งอีกครั้ง: a letter's e-mail that was refused, bounced or given up goes again (a new message)."""
    with transaction.atomic():
        row = MailOutbound.objects.select_for_update(of=("self",)).select_related("account", "dispatch__letter").get(
            pk=row.pk)
        if row.dispatch is None:
            raise ValidationFailed([FieldProblem("message", "not_letter", "ส่งอีกครั้งได้เฉพาะหนังสือ",
                                                 "Only a letter can be sent again")])
        letter = row.dispatch.letter
        if not has_role(actor, letter.organisation_id, *REGISTRY):
            raise ValidationFailed([FieldProblem("message", "forbidden", "เฉพาะงานสารบรรณของหน่วยงานผู้ส่ง",
                                                 "Only the sending organisation's registry")])
        if row.status not in (OutboundStatus.REFUSED, OutboundStatus.BOUNCED, OutboundStatus.GIVEN_UP):
            raise ValidationFailed([FieldProblem("message", "wrong_state",
                                                 "ส่งอีกครั้งได้เฉพาะอีเมลที่ส่งไม่สำเร็จหรือตีกลับ",
                                                 "Only a refused, bounced or given-up e-mail can be sent again")])
        if letter.pdf_id is None:
            raise ValidationFailed([FieldProblem("message", "no_pdf", "ไม่พบไฟล์หนังสือที่ส่ง", "The sent PDF is missing")])
        newer = MailOutbound.objects.filter(dispatch=row.dispatch, pk__gt=row.pk).exists()
        if newer or not restart_dispatch(row.dispatch.pk, actor=actor, why="mail.send_again"):
            raise ValidationFailed([FieldProblem("message", "already_sent_again", "หนังสือฉบับนี้ส่งอีกครั้งแล้ว",
                                                 "This letter was already sent again")])
        again = queue_letter(row.dispatch, OutgoingLetter(letter=letter, pdf=read_file(letter.pdf_id)))
        record_event("mail.send_again", object_type="dispatch", object_id=row.dispatch_id,
                     organisation_id=letter.organisation_id, actor=actor,
                     detail={"previous": row.message_id, "message_id": again.message_id})
    return again
