"""Build the demo deployment through the services, as a real installation would be built."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction

from saraban.correspondence.kinds import LetterType, Secrecy, Urgency
from saraban.correspondence.models import Letter
from saraban.correspondence.services import cancel_letter, create_letter, issue_number, start_correction
from saraban.directory.models import Organisation, Person, Province
from saraban.directory.services import (
    appoint_acting,
    assign_role,
    create_organisation,
    create_person,
    load_provinces,
)

from .organisations import ORGANISATIONS, PEOPLE, SUBJECTS

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


def load_demo(password: str, *, letters_per_org: int = 40, seed: int = 2569) -> DemoSummary:
    """Create the demo deployment unless it is already there; return what it holds."""
    created = not Organisation.objects.filter(identifier="opm").exists()
    if created:
        with transaction.atomic():
            _build_directory(password)
        _build_letters(letters_per_org, random.Random(seed))
    people = [
        (p.username, p.name_th, r.get_role_display().split(" / ")[0], r.organisation.name_th)
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
    # The deputy signs as acting permanent secretary this month (รักษาราชการแทน).
    today = dt.datetime.now(BKK).date()
    appoint_acting(
        people["opm.signer"], saved["opm-ops"], position_title="ปลัดสำนักนายกรัฐมนตรี",
        starts_on=today - dt.timedelta(days=10), ends_on=today + dt.timedelta(days=20),
        order_reference="คำสั่งสำนักนายกรัฐมนตรี ที่ 215/2569",
    )
    # The officer of the city also drafts for the mayor's office.
    assign_role(people["city.officer"], saved["nakhon-nonthaburi"], "officer", position_title="นักจัดการงานทั่วไปชำนาญการ")


def _build_letters(per_org: int, rng: random.Random) -> None:
    writers = Person.objects.filter(roles__role__in=["central_clerk"]).distinct()
    orgs_with_clerk = {
        r.organisation_id: p for p in writers for r in p.roles.filter(role="central_clerk")
    }
    organisations = list(Organisation.objects.filter(pk__in=orgs_with_clerk))
    recipients = list(Organisation.objects.exclude(kind="division"))
    start = dt.datetime(2026, 1, 5, 9, 0, tzinfo=BKK)
    span = (dt.datetime.now(BKK) - start).total_seconds()
    plan = []
    for org in organisations:
        signer_role = org.role_assignments.filter(role="signer").select_related("person").first()
        for i in range(per_org):
            at = start + dt.timedelta(seconds=span * (i + rng.random()) / per_org)
            plan.append((at, org, signer_role, rng.choice(recipients), rng.choice(SUBJECTS)))
    plan.sort(key=lambda item: item[0])
    for at, org, signer_role, recipient, subject in plan:
        clerk = orgs_with_clerk[org.pk]
        content = _letter(org, recipient, subject, rng)
        if signer_role:
            content["signer"] = {"name": signer_role.person.name_th, "position": signer_role.position_title}
        else:
            content["signer"] = {"name": clerk.name_th, "position": "หัวหน้าสำนักงาน"}
        letter = create_letter(org, content, author=clerk)
        fate = rng.random()
        if fate < 0.15:
            continue  # stays a draft
        letter = issue_number(letter, actor=clerk, at=at)
        if fate < 0.20:
            cancel_letter(letter, reason="ออกเลขซ้ำซ้อนกับหนังสือฉบับอื่น", actor=clerk)
        elif fate < 0.23:
            start_correction(letter, actor=clerk)
