"""Writes of the e-CMS connector: connections, the e-CMS directory and its matches, resending, disputes."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone

from saraban.access.policy import has_role
from saraban.audit.services import record_event
from saraban.core.errors import FieldProblem, ValidationFailed
from saraban.correspondence.models import Letter
from saraban.correspondence.permissions import REGISTRY
from saraban.directory.models import Organisation, OrganisationKind, Person, Role, RoleAssignment
from saraban.directory.selectors import current_roles
from saraban.directory.services import create_organisation
from saraban.documents.services import read_file
from saraban.exchange.delivery import OutgoingLetter
from saraban.exchange.dispatches import restart_dispatch
from saraban.exchange.models import Dispatch, DispatchStatus

from .client import NodeError, call
from .messages import Organization, ministry_list_request, new_message_id, organization_list_request
from .models import EcmsConnection, EcmsOrganisation, EcmsOutbound, OutboundKind, OutboundStatus
from .outbound import queue_letter, queue_sender_notifier


def _refuse(field: str, code: str, th: str, en: str) -> ValidationFailed:
    return ValidationFailed([FieldProblem(field, code, th, en)])


def _admin_of(actor: Person | None, organisation_id: int) -> None:
    if actor is not None and not has_role(actor, organisation_id, Role.ORG_ADMIN):
        raise _refuse("organisation", "forbidden", "เฉพาะผู้ดูแลหน่วยงานหรือผู้ดูแลระบบ",
                      "Only the organisation's or the system's administrator may do this")


def connect(organisation: Organisation, *, endpoint: str, ministry_id: str, department_id: str,
            actor: Person | None) -> EcmsConnection:
    """Give an organisation hosted here its e-CMS account (its node's ECMS-URL and its e-CMS ids)."""
    _admin_of(actor, organisation.pk)
    parts = urlsplit(endpoint.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _refuse("endpoint", "invalid", "ที่อยู่ e-CMS ต้องเป็น URL แบบ http:// หรือ https://",
                      "The e-CMS address must be an http:// or https:// URL")
    if not ministry_id.strip() or not department_id.strip():
        raise _refuse("department_id", "required", "ต้องระบุรหัสกระทรวงและรหัสกรมใน e-CMS",
                      "Give the e-CMS ministry and department ids")
    if organisation.home_deployment:
        raise _refuse("organisation", "remote", "หน่วยงานนี้อยู่ในระบบอื่น", "This organisation is hosted elsewhere")
    other = EcmsConnection.objects.filter(department_id=department_id.strip()).exclude(
        organisation=organisation).select_related("organisation").first()
    if other is not None:
        raise _refuse("department_id", "taken",
                      f"รหัสกรม {department_id.strip()} เป็นของ {other.organisation.name_th} แล้ว",
                      f"Department id {department_id.strip()} is already {other.organisation.name_th}'s")
    with transaction.atomic():
        connection, _ = EcmsConnection.objects.update_or_create(
            organisation=organisation,
            defaults={"endpoint": endpoint.strip(), "ministry_id": ministry_id.strip(),
                      "department_id": department_id.strip(), "is_active": True},
        )
        record_event("ecms.connected", object_type="ecms_connection", object_id=connection.pk,
                     organisation_id=organisation.pk, actor=actor,
                     after={"endpoint": connection.endpoint, "department_id": connection.department_id})
    return connection


def set_active(connection: EcmsConnection, active: bool, *, actor: Person | None) -> EcmsConnection:
    """Suspend (nothing is posted or polled) or resume an organisation's e-CMS account, audited."""
    _admin_of(actor, connection.organisation_id)
    with transaction.atomic():
        before = {"is_active": connection.is_active}
        connection.is_active = active
        connection.save(update_fields=["is_active"])
        record_event("ecms.resumed" if active else "ecms.suspended", object_type="ecms_connection",
                     object_id=connection.pk, organisation_id=connection.organisation_id, actor=actor, before=before,
                     after={"is_active": active})
    return connection


def refresh_directory(connection: EcmsConnection, *, actor: Person | None = None) -> tuple[int, int]:
    """Read the e-CMS directory from ``connection``'s node (GetOrganizationList); (new, updated) agencies.

    Matches that an administrator made stay; our own organisation is matched to its own entry. A node
    that cannot answer raises ``NodeError``, and its words stay on the connection (``last_error``).
    """
    try:
        ministries = {m.ministry_id: m.th_name for m in
                      call(connection.endpoint, ministry_list_request(message_id=new_message_id(),
                                                                      to=connection.endpoint)).ministries}
        listed = call(connection.endpoint, organization_list_request(message_id=new_message_id(),
                                                                     to=connection.endpoint)).organizations
    except NodeError as error:
        EcmsConnection.objects.filter(pk=connection.pk).update(last_error=error.words[:2000])
        raise
    new = updated = 0
    now = timezone.now()
    with transaction.atomic():
        for agency in listed:
            new_row = _upsert(agency, ministries.get(agency.ministry_id, ""), now)
            new, updated = new + new_row, updated + (not new_row)
        EcmsOrganisation.objects.filter(organization_id=connection.department_id, organisation__isnull=True).update(
            organisation=connection.organisation)
        record_event("ecms.directory_refreshed", object_type="ecms_connection", object_id=connection.pk,
                     organisation_id=connection.organisation_id, actor=actor,
                     detail={"new": new, "updated": updated, "listed": len(listed)})
    return new, updated


def _upsert(agency: Organization, ministry_name: str, now: dt.datetime) -> bool:
    _, created = EcmsOrganisation.objects.update_or_create(
        organization_id=agency.organization_id[:32],
        defaults={"th_name": agency.th_name[:500] or agency.organization_id, "en_name": agency.en_name[:500],
                  "ecms_url": agency.ecms_url[:500], "ministry_id": agency.ministry_id[:32],
                  "ministry_name": ministry_name[:500], "seen_at": now},
    )
    return created


def is_system_admin(person: Person) -> bool:
    """Whether ``person`` holds the deployment-wide system administrator role today."""
    return current_roles(person, timezone.localdate()).filter(role=Role.SYS_ADMIN).exists()


def _hosted_here(organisation: Organisation) -> bool:
    return RoleAssignment.objects.filter(organisation=organisation).exists() or \
        EcmsConnection.objects.filter(organisation=organisation).exists()


def match(agency: EcmsOrganisation, organisation: Organisation | None, *, actor: Person | None) -> EcmsOrganisation:
    """Say which directory organisation an e-CMS agency is (None: no longer matched), audited."""
    if actor is not None and not is_system_admin(actor):
        raise _refuse("organisation", "forbidden", "เฉพาะผู้ดูแลระบบ", "Only a system administrator may match agencies")
    if organisation is not None:
        if organisation.home_deployment or _hosted_here(organisation):
            raise _refuse("organisation", "hosted", f"{organisation.name_th} ใช้ระบบนี้หรือระบบ Saraban อื่นอยู่แล้ว",
                          f"{organisation.name_en or organisation.name_th} is hosted here or by a Saraban peer")
        taken = EcmsOrganisation.objects.filter(organisation=organisation).exclude(pk=agency.pk).first()
        if taken is not None:
            raise _refuse("organisation", "taken", f"{organisation.name_th} จับคู่กับ {taken.th_name} อยู่แล้ว",
                          f"{organisation.name_th} is already matched to {taken.th_name}")
    with transaction.atomic():
        before = {"organisation": agency.organisation_id}
        agency.organisation = organisation
        agency.save(update_fields=["organisation"])
        record_event("ecms.matched", object_type="ecms_organisation", object_id=agency.pk,
                     organisation_id=organisation.pk if organisation else None, actor=actor, before=before,
                     after={"organisation": agency.organisation_id, "ecms_id": agency.organization_id})
    return agency


def add_to_directory(agency: EcmsOrganisation, *, actor: Person | None) -> Organisation:
    """Create a directory organisation for an e-CMS agency that has none, and match the two."""
    if agency.organisation_id is not None:
        raise _refuse("organisation", "matched", "จับคู่แล้ว", "Already matched")
    with transaction.atomic():
        organisation = create_organisation(
            actor=actor, identifier=f"ecms-{agency.organization_id}".lower()[:64], kind=OrganisationKind.STATE_BODY,
            name_th=agency.th_name[:255], name_en=agency.en_name[:255],
        )
        match(agency, organisation, actor=actor)
    return organisation


def _ecms_letter(dispatch: Dispatch) -> EcmsOutbound:
    row = EcmsOutbound.objects.filter(dispatch=dispatch, kind=OutboundKind.LETTER).order_by("-pk").first()
    if row is None:
        raise _refuse("dispatch", "not_ecms", "หนังสือฉบับนี้ไม่ได้ส่งทาง e-CMS", "This letter was not sent through e-CMS")
    return row


def _registry_of(actor: Person, letter: Letter) -> None:
    if not has_role(actor, letter.organisation_id, *REGISTRY):
        raise _refuse("dispatch", "forbidden", "เฉพาะงานสารบรรณของหน่วยงานผู้ส่ง",
                      "Only the sending organisation's registry")


def resend(dispatch: Dispatch, *, actor: Person) -> EcmsOutbound:
    """ถอนและส่งใหม่: withdraw a rejected (or undelivered) letter from e-CMS, then send it again."""
    with transaction.atomic():
        dispatch = Dispatch.objects.select_for_update().select_related("letter__organisation").get(pk=dispatch.pk)
        letter = dispatch.letter
        _registry_of(actor, letter)
        previous = _ecms_letter(dispatch)
        if dispatch.status not in (DispatchStatus.RETURNED, DispatchStatus.FAILED):
            raise _refuse("dispatch", "wrong_state", "ส่งใหม่ได้เฉพาะหนังสือที่ถูกปฏิเสธหรือส่งไม่สำเร็จ",
                          "Only a rejected or undelivered letter can be sent again")
        if previous.status == OutboundStatus.PENDING:
            previous.status = OutboundStatus.CANCELLED
            previous.save(update_fields=["status"])
        pdf = letter.pdf_id
        if pdf is None:
            raise _refuse("dispatch", "no_pdf", "ไม่พบไฟล์หนังสือที่ส่ง", "The letter's sent PDF is missing")
        restart_dispatch(dispatch.pk, actor=actor, why="ecms.resend")
        was_posted = previous.status == OutboundStatus.POSTED or previous.withdrawn_at is not None
        row = queue_letter(dispatch, OutgoingLetter(letter=letter, pdf=read_file(pdf)), withdraw_first=was_posted)
        record_event("ecms.resent", object_type="dispatch", object_id=dispatch.pk,
                     organisation_id=letter.organisation_id, actor=actor,
                     detail={"letter_id": row.letter_id, "withdraw_first": was_posted})
    return row


def dispute_accept_id(dispatch: Dispatch, *, actor: Person) -> EcmsOutbound:
    """แจ้งเลขรับไม่ถูกต้อง: tell the receiver through e-CMS that the เลขรับ it reported is wrong."""
    with transaction.atomic():
        dispatch = Dispatch.objects.select_related("letter").get(pk=dispatch.pk)
        _registry_of(actor, dispatch.letter)
        if dispatch.status != DispatchStatus.REGISTERED:
            raise _refuse("dispatch", "wrong_state", "ผู้รับยังไม่ได้แจ้งเลขรับ", "The receiver has not reported a number")
        row = queue_sender_notifier(_ecms_letter(dispatch), "InvalidAcceptIDNotifier",
                                    accept_id=dispatch.receive_number)
        record_event("ecms.accept_id_disputed", object_type="dispatch", object_id=dispatch.pk,
                     organisation_id=dispatch.letter.organisation_id, actor=actor,
                     detail={"accept_id": dispatch.receive_number})
    return row
