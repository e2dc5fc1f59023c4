"""Build the demo deployment through the services, as a real installation would be built."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction

from saraban.access.services import grant_secrecy
from saraban.core.labels import pair
from saraban.correspondence.models import Letter
from saraban.correspondence.services import cancel_letter, create_letter, issue_number
from saraban.correspondence.workflow import (
    approve_review,
    close_letter,
    return_for_changes,
    set_recipients,
    sign_letter,
    submit_for_review,
)
from saraban.directory.models import Organisation, Person, Province, RoleAssignment
from saraban.directory.services import (
    appoint_acting,
    assign_role,
    create_organisation,
    create_person,
    load_provinces,
)
from saraban.exchange.models import Dispatch
from saraban.exchange.services import send_letter
from saraban.inbox import services as inbox
from saraban.regulation.kinds import LetterType, Secrecy, Urgency
from saraban.signatures.methods import SignerProof
from saraban.signatures.models import SigningCertificate

from .organisations import ORGANISATIONS, PEOPLE, SUBJECTS
from .paper import back_file_scan, register_paper_letters
from .pki import SHORT_LIVED, demo_ca, issue_pkcs12
from .records import load_records_demo

BKK = ZoneInfo("Asia/Bangkok")


@dataclass(frozen=True)
class DemoSummary:
    """What the demo holds, for the start-up message."""

    organisations: int
    people: list[tuple[str, str, str, str]]  # username, name, role, organisation
    letters: int
    created: bool


def _letter(author_org: Organisation, recipient: Organisation, subject: str, rng: random.Random) -> dict[str, Any]:
    urgency = rng.choices(list(Urgency), weights=[70, 15, 10, 5])[0]
    secrecy = rng.choices([Secrecy.NORMAL, Secrecy.CONFIDENTIAL], weights=[92, 8])[0]
    internal = recipient.pk == author_org.pk
    return {
        "type": LetterType.INTERNAL if internal else LetterType.EXTERNAL,
        "urgency": urgency,
        "secrecy": secrecy,
        "subject": subject,
        "salutation": "เรียน",
        "recipient": "ปลัด" + author_org.name_th.removeprefix("สำนักงานปลัด") if internal else _title_of(recipient),
        "body": [
            f"ด้วย{author_org.name_th}ได้ดำเนินการขับเคลื่อนการใช้ระบบสารบรรณอิเล็กทรอนิกส์ตามระเบียบสำนักนายกรัฐมนตรี"
            "ว่าด้วยงานสารบรรณ (ฉบับที่ 4) พ.ศ. 2564 เพื่อให้การติดต่อราชการเป็นไปอย่างรวดเร็ว ประหยัด และตรวจสอบได้",
            f"ในการนี้ จึงขอความร่วมมือจาก{recipient.name_th}ในเรื่อง{subject} "
            "โดยขอให้แจ้งผลการดำเนินการภายใน 15 วัน นับแต่วันที่ได้รับหนังสือนี้",
            "จึงเรียนมาเพื่อโปรดพิจารณา" if not internal else "จึงเรียนมาเพื่อโปรดทราบและพิจารณา",
        ],
        "closing": "ขอแสดงความนับถือ",
        "signer": {"name": "", "position": ""},
        "owner_unit": author_org.name_th,
        "phone": author_org.phone or "0 2283 4000",
        "email": author_org.email,
    }


def _title_of(org: Organisation) -> str:
    titles = {
        "provincial_office": f"ผู้ว่าราชการ{org.name_th}",
        "pao": f"นายก{org.name_th}",
        "municipality": f"นายก{org.name_th.replace('เทศบาล', 'เทศมนตรี', 1)}",
        "sao": f"นายก{org.name_th}",
        "department": f"อธิบดี{org.name_th}" if org.name_th.startswith("กรม") else f"เลขาธิการ{org.name_th}",
    }
    return titles.get(org.kind, f"หัวหน้า{org.name_th}")


def load_demo(password: str, *, letters_per_org: int = 25, seed: int = 2569) -> DemoSummary:
    """Create the demo deployment unless it is already there; return what it holds."""
    created = not Organisation.objects.filter(identifier="opm").exists()
    if created:
        with transaction.atomic():
            _build_directory(password)
        rng = random.Random(seed)
        _build_letters(letters_per_org, rng, password)
        _build_pki_letters(_issue_certificates(password), rng, password)
        register_paper_letters()  # scans for OCR: the worker reads them once serving starts
        scan = back_file_scan()
        if scan is not None:
            load_records_demo(scan)  # old paper letters, a file plan, a hold and the destruction list of 2568
    from saraban.rollout.demo import load_rollout_demo  # the programme console's demo; loads itself once

    load_rollout_demo(password)
    people = [
        (p.username, p.name_th, pair(r.get_role_display())[0], r.organisation.name_th)
        for p in Person.objects.filter(username__in=[u for u, *_ in PEOPLE]).order_by("username")
        for r in p.roles.select_related("organisation")
    ]
    return DemoSummary(Organisation.objects.count(), people, Letter.objects.count(), created)


def _build_directory(password: str) -> None:
    if not Province.objects.exists():
        load_provinces()
    provinces = {p.name_th: p for p in Province.objects.all()}
    saved: dict[str, Organisation] = {}
    for spec in ORGANISATIONS:
        fields = dict(spec)
        parent = fields.pop("parent")
        fields["province"] = provinces[fields["province"]]
        saved[spec["identifier"]] = create_organisation(parent=saved.get(parent) if parent else None, **fields)
    people: dict[str, Person] = {}
    for username, name_th, name_en, org_id, role, position in PEOPLE:
        person = people.get(username) or create_person(
            username=username, name_th=name_th, name_en=name_en, password=password,
            email=f"{username}@demo.saraban.invalid", is_staff=role == "sys_admin",
            is_superuser=role == "sys_admin",
        )
        people[username] = person
        assign_role(person, saved[org_id], role, position_title=position)
        if role in ("central_clerk", "signer"):
            # The registry and the executives handle ลับ letters (registering, endorsing): cleared for them.
            grant_secrecy(person, saved[org_id], "confidential", actor=None)
    # The deputy signs as acting permanent secretary this month (รักษาราชการแทน).
    today = dt.datetime.now(BKK).date()
    appoint_acting(
        people["opm.signer"], saved["opm-ops"], position_title="ปลัดสำนักนายกรัฐมนตรี",
        starts_on=today - dt.timedelta(days=10), ends_on=today + dt.timedelta(days=20),
        order_reference="คำสั่งสำนักนายกรัฐมนตรี ที่ 215/2569",
    )
    # The officer of the city also drafts for the mayor's office.
    assign_role(people["city.officer"], saved["nakhon-nonthaburi"], "officer", position_title="นักจัดการงานทั่วไปชำนาญการ")


def _build_letters(per_org: int, rng: random.Random, password: str) -> None:
    """Letters in every state, moved through the real workflow (review, signature, number, send...)."""
    proof = SignerProof(password)
    people = {p.username: p for p in Person.objects.all()}

    def holder(org: Organisation, role: str) -> Person | None:
        assignment = RoleAssignment.objects.filter(organisation=org, role=role).select_related("person").first()
        return assignment.person if assignment else None

    writers = [o for o in Organisation.objects.order_by("pk") if holder(o, "central_clerk") and holder(o, "signer")]
    recipients = [o for o in Organisation.objects.exclude(kind="division") if holder(o, "central_clerk")]
    start = dt.datetime(2026, 1, 5, 9, 0, tzinfo=BKK)
    span = (dt.datetime.now(BKK) - dt.timedelta(days=1) - start).total_seconds()
    plan = []
    for org in writers:
        for i in range(per_org):
            at = start + dt.timedelta(seconds=span * (i + rng.random()) / per_org)
            others = [o for o in recipients if o.pk != org.pk]
            plan.append((at, org, rng.sample(others, k=rng.choice([1, 1, 1, 2, 3])), rng.choice(SUBJECTS)))
    plan.sort(key=lambda item: item[0])
    for at, org, to, subject in plan:
        clerk, signer = holder(org, "central_clerk"), holder(org, "signer")
        assert clerk is not None and signer is not None
        reviewer = holder(org, "reviewer") or next(
            (holder(u, "reviewer") for u in Organisation.objects.filter(parent=org) if holder(u, "reviewer")), None
        )
        content = _letter(org, to[0], subject, rng)
        content["signer"] = {"name": signer.name_th, "position": _position(signer, org)}
        letter = create_letter(org, content, author=clerk)
        set_recipients(letter, to[:1], to[1:], actor=clerk)
        fate = rng.random()
        if fate < 0.08:
            continue  # a draft
        reviewers = [reviewer] if reviewer else []
        letter = submit_for_review(letter, actor=clerk, reviewers=reviewers, signer=signer)
        if fate < 0.12 and reviewers:
            return_for_changes(letter, actor=reviewers[0], comment="ขอให้ระบุกำหนดเวลาการรายงานผลให้ชัดเจน")
            continue
        if fate < 0.16:
            continue  # in review (or approved when there is no reviewer)
        for r in reviewers:
            letter = approve_review(letter, actor=r, comment="ตรวจแล้ว เห็นควรลงนาม")
        if fate < 0.20:
            continue  # approved, waiting for the signature
        sign_letter(letter, actor=signer, proof=proof)
        if fate < 0.24:
            continue  # signed, waiting for a number
        letter = issue_number(letter, actor=clerk, at=at)
        if fate < 0.27:
            cancel_letter(letter, reason="ออกเลขซ้ำซ้อนกับหนังสือฉบับอื่น", actor=clerk)
            continue
        if fate < 0.31:
            continue  # numbered, not yet sent
        for dispatch in send_letter(letter, actor=clerk):
            _receive(dispatch, rng, people)
        if fate > 0.85:
            close_letter(letter, actor=clerk)


def _issue_certificates(password: str) -> dict[int, SigningCertificate]:
    """A demo certificate (PKCS#12, encrypted with the demo password) for every demo signer."""
    from saraban.signatures.registry import register_pkcs12

    ca = demo_ca()
    issued: dict[int, SigningCertificate] = {}
    for username, _th, name_en, org_id, role, _position_title in PEOPLE:
        if role != "signer":
            continue
        person = Person.objects.get(username=username)
        org = Organisation.objects.get(identifier=org_id)
        data = issue_pkcs12(
            ca, common_name=name_en, organisation=org.name_en or org.name_th, email=person.email,
            password=password, days=SHORT_LIVED.get(username, 365),
        )
        issued[person.pk] = register_pkcs12(
            organisation=org, holder=person, data=data, password=password, actor=person,
            label="ใบรับรองสาธิต / demo certificate",
        )
    return issued


def _build_pki_letters(certificates: dict[int, SigningCertificate], rng: random.Random, password: str) -> None:
    """Today's letters signed with the demo certificates (PAdES), sent; and a pile waiting for a batch."""
    proof = SignerProof(password)
    recipients = [o for o in Organisation.objects.exclude(kind="division")
                  if RoleAssignment.objects.filter(organisation=o, role="central_clerk").exists()]
    for certificate in certificates.values():
        org = certificate.organisation
        signer = certificate.holder
        clerk = RoleAssignment.objects.filter(organisation=org, role="central_clerk").select_related("person").first()
        if clerk is None or signer is None:
            continue
        waiting = 12 if org.identifier in ("opm-ops", "nakhon-nonthaburi") else 0
        for n in range(3 + waiting):
            to = rng.sample([o for o in recipients if o.pk != org.pk], k=1)
            content = _letter(org, to[0], rng.choice(SUBJECTS), rng)
            content["signer"] = {"name": signer.name_th, "position": _position(signer, org)}
            letter = create_letter(org, content, author=clerk.person)
            set_recipients(letter, to, [], actor=clerk.person)
            letter = submit_for_review(letter, actor=clerk.person, reviewers=[], signer=signer)
            if n >= 3:
                continue  # approved: waiting for the signer's batch
            sign_letter(letter, actor=signer, proof=proof, certificate=certificate)  # numbered as it is signed
            letter.refresh_from_db()
            send_letter(letter, actor=clerk.person)


def _position(person: Person, org: Organisation) -> str:
    assignment = RoleAssignment.objects.filter(person=person, organisation=org, role="signer").first()
    return assignment.position_title if assignment else ""


def _receive(dispatch: Dispatch, rng: random.Random, people: dict[str, Person]) -> None:
    """What the receiving organisation did with a delivered letter."""
    from saraban.inbox.models import IncomingLetter

    incoming = IncomingLetter.objects.get(dispatch=dispatch)
    org = incoming.organisation
    clerk = RoleAssignment.objects.filter(organisation=org, role="central_clerk").first()
    executive = RoleAssignment.objects.filter(organisation=org, role="signer").first()
    fate = rng.random()
    if clerk is None or fate < 0.25:
        return  # still waiting for registration
    if fate < 0.29:
        inbox.return_to_sender(incoming, actor=clerk.person, reason="ส่งผิดหน่วยงาน ขอให้ตรวจสอบผู้รับ")
        return
    incoming = inbox.register(incoming, actor=clerk.person)
    if executive is None or fate < 0.45:
        return
    units = list(Organisation.objects.filter(parent=org))
    officer = RoleAssignment.objects.filter(organisation__in=[org, *units], role="officer").first()
    due = dt.datetime.now(BKK).date() + dt.timedelta(days=rng.choice([3, 7, 15, 30]))
    target = inbox.AssignTo(unit=units[0], due_date=due) if units else inbox.AssignTo(
        person=officer.person if officer else clerk.person, due_date=due
    )
    inbox.endorse(incoming, actor=executive.person, instruction=rng.choice(INSTRUCTIONS), assign=[target])
    if fate < 0.70:
        return
    assignment = incoming.assignments.first()
    doer = officer.person if officer else clerk.person
    if assignment is not None and inbox.may_act_on(assignment, doer):
        inbox.complete_assignment(assignment, actor=doer, note="ดำเนินการตามข้อสั่งการและแจ้งผลผู้ส่งแล้ว")
        if fate > 0.85:
            inbox.close(incoming, actor=clerk.person)


INSTRUCTIONS = [
    "ทราบ มอบสำนักปลัดพิจารณาดำเนินการ",
    "ทราบ มอบผู้รับผิดชอบดำเนินการและรายงานผลภายในกำหนด",
    "เพื่อโปรดทราบและถือปฏิบัติ มอบดำเนินการ",
    "ทราบ ให้ประสานหน่วยงานที่เกี่ยวข้องและแจ้งผล",
]
