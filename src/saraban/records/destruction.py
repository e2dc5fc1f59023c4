"""The annual destruction (การทำลายหนังสือประจำปี, ระเบียบฯ ข้อ 66–69), step by step, audited at each.

1. ``draw_up``: after the year ends, the list (แบบที่ 25) of what became due by its end, holds left out.
2. ``appoint_committee``: the head (a signer of the organisation) names a chair and at least two
   members, by an order (คำสั่ง) numbered in Saraban.
3. ``decide`` and ``sign``: the committee keeps some items with a longer retention and each member
   signs the list; the kept items take their new retention when the last one signs.
4. ``approve``: the head approves; ``send_to_archives``: the list goes to the National Archives, whose
   objection period (``SARABAN_RECORDS['archives_objection_days']``) starts; ``record_objection``.
5. ``destroy``: once the period is over, each item is destroyed in its own transaction; an item on
   hold by then is skipped and kept; classified items need a person cleared for them. A run that
   stops half-way is resumed by running it again: destroyed items stay destroyed, and the rest follow.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from saraban.access.policy import cleared_levels, has_role, has_role_within
from saraban.audit.services import record_event
from saraban.core.errors import FieldProblem, PermissionRefused, StateRefused, ValidationFailed, enforce
from saraban.core.labels import pair
from saraban.correspondence.models import NUMBERED_STATUSES, Letter
from saraban.correspondence.services import create_letter
from saraban.correspondence.workflow import set_recipients
from saraban.directory.models import Organisation, Person, Role, RoleAssignment
from saraban.documents.services import store_file
from saraban.regulation.kinds import LetterSubtype

from .erasure import destroy_record, erase_pending
from .exports import destruction_list_file
from .letters import listed_facts
from .models import (
    CommitteeMember,
    CommitteeRole,
    DestructionItem,
    DestructionList,
    DestructionStatus,
    ItemDecision,
    Record,
)
from .permissions import can_keep_records
from .retention import Retention, RetentionClass, buddhist_year, keep_until_year
from .selectors import active_holds, due_for_destruction
from .services import apply_retention, check_retention, ensure_records

CHANNELS = ("exchange", "email", "paper")


def _audit(destruction: DestructionList, action: str, actor: Person, **detail: object) -> None:
    record_event(f"records.destruction.{action}", object_type="records.DestructionList", object_id=destruction.pk,
                 organisation_id=destruction.organisation_id, actor=actor, detail={"year": destruction.year, **detail})


def _state(destruction: DestructionList, *allowed: DestructionStatus, th: str, en: str) -> None:
    if destruction.status not in allowed:
        step_th, step_en = pair(DestructionStatus(destruction.status).label)
        raise StateRefused("records.destruction_state", f"บัญชีนี้อยู่ในขั้น {step_th} จึง{th}ไม่ได้",
                           f"The list is at the step '{step_en}', so it cannot {en}")


def _head(actor: Person, organisation_id: int) -> None:
    """The department-level head (หัวหน้าส่วนราชการ): an executive who signs for the organisation."""
    if not has_role(actor, organisation_id, Role.SIGNER):
        raise PermissionRefused("records.not_head", "เฉพาะหัวหน้าส่วนราชการ (ผู้ลงนามของหน่วยงาน) ทำขั้นนี้ได้",
                                "Only the head of the organisation (one of its signers) can do this")


def _locked(destruction: DestructionList) -> DestructionList:
    return DestructionList.objects.select_for_update().get(pk=destruction.pk)


def draw_up(organisation: Organisation, year: int, *, actor: Person, today: dt.date | None = None) -> DestructionList:
    """Draw up the list of what became due by the end of ``year`` (พ.ศ.), once that year is over."""
    enforce(can_keep_records(actor, organisation))
    current = buddhist_year(today or timezone.localdate())
    if year >= current:
        raise ValidationFailed([FieldProblem("year", "not_over", f"ปี พ.ศ. {year} ยังไม่สิ้นสุด จึงยังจัดทำบัญชีขอทำลายไม่ได้",
                                             f"The year {year - 543} is not over yet")])
    ensure_records(organisation.pk)
    with transaction.atomic():
        if DestructionList.objects.filter(organisation=organisation, year=year).exists():
            raise StateRefused("records.list_exists", f"มีบัญชีขอทำลายของปี พ.ศ. {year} แล้ว",
                               f"There is a destruction list for {year - 543} already")
        due = list(due_for_destruction(organisation.pk, year))
        if not due:
            raise StateRefused("records.nothing_due", f"ไม่มีหนังสือครบกำหนดทำลายภายในสิ้นปี พ.ศ. {year}",
                               f"Nothing became due for destruction by the end of {year - 543}")
        destruction = DestructionList.objects.create(organisation=organisation, year=year, drafted_by=actor,
                                                     drafted_at=timezone.now())
        DestructionItem.objects.bulk_create([DestructionItem(destruction=destruction, record=r) for r in due])
        _audit(destruction, "drawn_up", actor, items=len(due))
    return destruction


@dataclass(frozen=True)
class Appointee:
    """A member of the committee as the order names them."""

    person: Person
    role: CommitteeRole
    position: str = ""


def appoint_committee(destruction: DestructionList, members: Sequence[Appointee], *, order: Letter,
                      actor: Person) -> DestructionList:
    """The head appoints the committee (a chair and at least two members) by the order ``order``."""
    _head(actor, destruction.organisation_id)
    problems = []
    chairs = [m for m in members if m.role == CommitteeRole.CHAIR]
    if len(members) < 3 or len(chairs) != 1:
        problems.append(FieldProblem("committee", "size", "คณะกรรมการต้องมีประธาน 1 คน และกรรมการอย่างน้อย 2 คน",
                                     "The committee needs one chair and at least two members"))
    if len({m.person.pk for m in members}) != len(members):
        problems.append(FieldProblem("committee", "twice", "ระบุบุคคลเดียวกันซ้ำ", "A person is named twice"))
    for m in members:
        if not has_role_within(m.person, destruction.organisation_id, *Role):
            problems.append(FieldProblem("committee", "outsider", f"{m.person.display_name} ไม่ได้สังกัดหน่วยงานนี้",
                                         f"{m.person.display_name} does not work in this organisation"))
    if (order.organisation_id != destruction.organisation_id or order.subtype != LetterSubtype.ORDER
            or order.status not in NUMBERED_STATUSES):
        problems.append(FieldProblem("order", "not_an_order", "ต้องเป็นคำสั่งของหน่วยงานนี้ที่ออกเลขแล้ว",
                                     "It must be a numbered order (คำสั่ง) of this organisation"))
    if problems:
        raise ValidationFailed(problems)
    with transaction.atomic():
        destruction = _locked(destruction)
        _state(destruction, DestructionStatus.DRAFTED, th="แต่งตั้งคณะกรรมการ", en="appoint the committee")
        CommitteeMember.objects.bulk_create([CommitteeMember(destruction=destruction, person=m.person, role=m.role,
                                                             position=m.position[:255]) for m in members])
        destruction.committee_order, destruction.status = order, DestructionStatus.COMMITTEE
        destruction.save()
        _audit(destruction, "committee_appointed", actor, order=order.number,
               members=[(m.person.pk, str(m.role)) for m in members])
    return destruction


def _member(destruction: DestructionList, actor: Person) -> CommitteeMember:
    member = CommitteeMember.objects.filter(destruction=destruction, person=actor).first()
    if member is None:
        raise PermissionRefused("records.not_committee", "เฉพาะคณะกรรมการทำลายหนังสือทำขั้นนี้ได้",
                                "Only the destruction committee can do this")
    return member


def decide(item: DestructionItem, *, keep: bool, actor: Person, retention: Retention | None = None,
           reason: str = "") -> DestructionItem:
    """A committee member marks an item to destroy, or to keep with a longer retention and the reason.

    A changed decision asks every member to sign the list again.
    """
    destruction = item.destruction
    _member(destruction, actor)
    if keep:
        problems = [] if retention is not None else [FieldProblem("retention", "required", "ต้องกำหนดอายุการเก็บใหม่",
                                                                  "Give the new retention")]
        if retention is not None:
            problems += check_retention(retention)
            until = keep_until_year(item.record.document_year, retention)
            if until is not None and until <= destruction.year:
                problems.append(FieldProblem("retention", "too_short", "อายุการเก็บใหม่ต้องเลยปีของบัญชีนี้",
                                             "The new retention must run past this list's year"))
        if not reason.strip():
            problems.append(FieldProblem("reason", "required", "ต้องระบุเหตุที่ให้เก็บไว้", "Say why it is kept"))
        if problems:
            raise ValidationFailed(problems)
    with transaction.atomic():
        destruction = _locked(destruction)
        _state(destruction, DestructionStatus.COMMITTEE, th="พิจารณารายการ", en="review its items")
        item = DestructionItem.objects.select_for_update().get(pk=item.pk)
        item.decision = ItemDecision.KEEP if keep else ItemDecision.DESTROY
        item.keep_reason = reason.strip()[:500] if keep else ""
        item.decided_by = actor
        item.new_retention_class = retention.retention_class if keep and retention else ""
        item.new_retention_years = retention.years if keep and retention else None
        item.new_legal_basis = retention.legal_basis if keep and retention else ""
        item.save()
        CommitteeMember.objects.filter(destruction=destruction).update(signed_at=None)
        _audit(destruction, "item_decided", actor, record=item.record_id, decision=item.decision,
               reason=item.keep_reason)
    return item


def _new_retention(item: DestructionItem) -> Retention | None:
    if not item.new_retention_class:
        return None
    return Retention(RetentionClass(item.new_retention_class), item.new_retention_years, item.new_legal_basis)


def sign(destruction: DestructionList, *, actor: Person) -> DestructionList:
    """A member signs the reviewed list; with the last signature the kept items take their new retention."""
    member = _member(destruction, actor)
    with transaction.atomic():
        destruction = _locked(destruction)
        _state(destruction, DestructionStatus.COMMITTEE, th="ลงนาม", en="be signed")
        CommitteeMember.objects.filter(pk=member.pk).update(signed_at=timezone.now())
        _audit(destruction, "signed", actor, role=member.role)
        if not CommitteeMember.objects.filter(destruction=destruction, signed_at__isnull=True).exists():
            for item in destruction.items.filter(decision=ItemDecision.KEEP).select_related("record"):
                retention = _new_retention(item)
                if retention is not None:
                    apply_retention(item.record, retention, actor=actor,
                                    reason=f"คณะกรรมการทำลายหนังสือให้เก็บไว้: {item.keep_reason}")
            destruction.status = DestructionStatus.REVIEWED
            destruction.save(update_fields=["status"])
            _audit(destruction, "reviewed", actor)
    return destruction


def approve(destruction: DestructionList, *, reference: str, actor: Person) -> DestructionList:
    """The head approves the reviewed list (the approval's reference: a memo's number, a date)."""
    _head(actor, destruction.organisation_id)
    if not reference.strip():
        raise ValidationFailed([FieldProblem("reference", "required", "ต้องระบุเลขที่หรือวันที่ของการอนุมัติ",
                                             "Give the approval's reference")])
    with transaction.atomic():
        destruction = _locked(destruction)
        _state(destruction, DestructionStatus.REVIEWED, th="อนุมัติ", en="be approved")
        destruction.status, destruction.approved_by, destruction.approved_at = (
            DestructionStatus.APPROVED, actor, timezone.now())
        destruction.approval_reference = reference.strip()[:300]
        destruction.save()
        _audit(destruction, "approved", actor, reference=destruction.approval_reference)
    return destruction


def send_to_archives(destruction: DestructionList, *, channel: str, reference: str, actor: Person,
                     today: dt.date | None = None) -> DestructionList:
    """The approved list went to the National Archives (by exchange, e-mail or on paper); the period starts."""
    enforce(can_keep_records(actor, destruction.organisation_id))
    if channel not in CHANNELS:
        raise ValidationFailed([FieldProblem("channel", "choice", "ช่องทางต้องเป็น exchange, email หรือ paper",
                                             "The channel is exchange, email or paper")])
    with transaction.atomic():
        destruction = _locked(destruction)
        _state(destruction, DestructionStatus.APPROVED, th="ส่งกรมศิลปากร", en="be sent to the National Archives")
        days = int(settings.SARABAN_RECORDS["archives_objection_days"])
        destruction.status, destruction.sent_at, destruction.sent_by_channel = (
            DestructionStatus.SENT, timezone.now(), channel)
        destruction.archives_reference = reference.strip()[:300]
        destruction.objection_until = (today or timezone.localdate()) + dt.timedelta(days=days)
        destruction.save()
        _audit(destruction, "sent", actor, channel=channel, objection_until=str(destruction.objection_until))
    return destruction


def record_objection(destruction: DestructionList, *, note: str, actor: Person) -> DestructionList:
    """The National Archives objected: nothing on the list is destroyed."""
    enforce(can_keep_records(actor, destruction.organisation_id))
    with transaction.atomic():
        destruction = _locked(destruction)
        _state(destruction, DestructionStatus.SENT, th="บันทึกการทักท้วง", en="record an objection")
        destruction.status, destruction.archives_note = DestructionStatus.OBJECTED, note.strip()[:500]
        destruction.save()
        _audit(destruction, "objected", actor, note=destruction.archives_note)
    return destruction


def _classified_check(destruction: DestructionList, actor: Person) -> None:
    cleared = set(cleared_levels(actor, destruction.organisation_id))
    left = [i.record for i in destruction.items.filter(decision=ItemDecision.DESTROY, destroyed_at__isnull=True)
            .select_related("record")]
    for facts in listed_facts(left).values():
        if facts.secrecy != "normal" and facts.secrecy not in cleared:
            raise PermissionRefused(
                "records.classified", "บัญชีนี้มีหนังสือลับ ต้องให้เจ้าหน้าที่ที่ได้รับอนุญาตให้เข้าถึงชั้นความลับนั้นเป็นผู้ทำลาย",
                "The list holds classified letters: a person cleared for their level must destroy them")


def destroy(destruction: DestructionList, *, actor: Person, today: dt.date | None = None) -> DestructionList:
    """Destroy what the list approved, once the Archives' objection period is over (run again to resume)."""
    enforce(can_keep_records(actor, destruction.organisation_id))
    day = today or timezone.localdate()
    with transaction.atomic():
        destruction = _locked(destruction)
        _state(destruction, DestructionStatus.SENT, DestructionStatus.DESTROYING, th="ทำลาย", en="be destroyed")
        if destruction.status == DestructionStatus.SENT and (destruction.objection_until is None
                                                             or day <= destruction.objection_until):
            raise StateRefused("records.objection_period",
                               f"ยังอยู่ในระยะที่กรมศิลปากรอาจทักท้วง (ถึง {destruction.objection_until})",
                               f"The National Archives may still object (until {destruction.objection_until})")
        _classified_check(destruction, actor)
        if destruction.status == DestructionStatus.SENT:
            destruction.status = DestructionStatus.DESTROYING
            destruction.save(update_fields=["status"])
            _audit(destruction, "destroying", actor)
    erase_pending()  # what a run that stopped had queued
    reference = f"แบบ 25 พ.ศ. {destruction.year}; {destruction.approval_reference}"
    held = set(active_holds().values_list("record_id", flat=True))
    for item in destruction.items.filter(decision=ItemDecision.DESTROY, destroyed_at__isnull=True,
                                         skipped_reason="").select_related("record"):
        if item.record_id in held:
            DestructionItem.objects.filter(pk=item.pk).update(skipped_reason="ระงับการทำลาย (legal hold)")
            continue
        with transaction.atomic():
            destroy_record(item.record, reference=reference, actor=actor)
            DestructionItem.objects.filter(pk=item.pk).update(destroyed_at=timezone.now())
        erase_pending()
    with transaction.atomic():
        destruction = _locked(destruction)
        destruction.status, destruction.destroyed_at = DestructionStatus.DESTROYED, timezone.now()
        destruction.save()
        destroyed = destruction.items.filter(destroyed_at__isnull=False).count()
        _audit(destruction, "destroyed", actor, destroyed=destroyed,
               skipped=destruction.items.exclude(skipped_reason="").count())
    return destruction


def records_of(destruction: DestructionList) -> list[Record]:
    """The list's records, in its order."""
    return [i.record for i in destruction.items.select_related("record").order_by("pk")]


def _signer_of(destruction: DestructionList) -> dict[str, str]:
    """The head who approved the list signs its covering letter (changeable in the editor)."""
    head = destruction.approved_by
    if head is None:
        return {"name": "", "position": ""}
    role = RoleAssignment.objects.filter(person=head, organisation_id=destruction.organisation_id,
                                         role=Role.SIGNER).first()
    return {"name": head.display_name, "position": role.position_title if role else ""}


def draft_covering_letter(destruction: DestructionList, *, actor: Person) -> Letter:
    """Draft the letter that sends the approved list to the National Archives (หนังสือนำส่ง), with แบบ 25.

    The letter then goes the usual way (review, signature, number, send by exchange, e-mail, e-CMS or
    on paper), and its number is the list's reference when it is recorded as sent. The Archives is
    ``SARABAN_RECORDS['archives_organisation']`` in the directory, when it is there.
    """
    enforce(can_keep_records(actor, destruction.organisation_id))
    _state(destruction, DestructionStatus.APPROVED, th="ร่างหนังสือนำส่ง", en="be sent")
    organisation = destruction.organisation
    pdf = store_file(destruction_list_file(organisation, destruction.year, "pdf"), "application/pdf")
    year = destruction.year
    letter = create_letter(organisation, {
        "type": "external", "subject": f"ขอส่งบัญชีหนังสือขอทำลาย ประจำปี พ.ศ. {year}",
        "salutation": "เรียน", "recipient": "อธิบดีกรมศิลปากร",
        "enclosures": [{"title": f"บัญชีหนังสือขอทำลาย ประจำปี พ.ศ. {year} จำนวน 1 ชุด", "sha256": pdf.sha256,
                        "filename": f"destruction-list-{year}.pdf"}],
        "body": [
            f"ด้วย{organisation.name_th}ได้ดำเนินการสำรวจหนังสือที่ครบกำหนดอายุการเก็บในปี พ.ศ. {year} "
            "และคณะกรรมการทำลายหนังสือได้พิจารณาแล้ว ตามระเบียบสำนักนายกรัฐมนตรีว่าด้วยงานสารบรรณ",
            "จึงขอส่งบัญชีหนังสือขอทำลายมาเพื่อโปรดพิจารณา หากกรมศิลปากรเห็นว่าหนังสือฉบับใดควรขยายเวลาการเก็บ "
            "หรือควรเก็บไว้เป็นหลักฐานทางประวัติศาสตร์ ขอได้โปรดแจ้งให้ทราบภายในกำหนด",
        ],
        "closing": "ขอแสดงความนับถือ", "owner_unit": organisation.name_th, "phone": organisation.phone,
        "signer": _signer_of(destruction),
    }, author=actor)
    archives = Organisation.objects.filter(identifier=settings.SARABAN_RECORDS["archives_organisation"]).first()
    if archives is not None:
        set_recipients(letter, [archives], [], actor=actor)
    _audit(destruction, "covering_letter_drafted", actor, letter=letter.pk)
    return letter
