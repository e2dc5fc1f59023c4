"""A classified incoming letter assigned to a unit: its unit sees and acts on it, nobody above it without a grant."""

from __future__ import annotations

import pytest
from django.test import Client

from saraban.access.services import grant_secrecy
from saraban.api.auth import issue_token
from saraban.directory.models import Organisation, Person
from saraban.directory.services import assign_role, create_organisation, create_person
from saraban.inbox import services as inbox
from saraban.inbox.models import IncomingLetter
from saraban.inbox.selectors import incoming_for, my_assignments
from saraban.regulation.kinds import Secrecy

from .api.test_api_inbox import blank_pdf
from .helpers import PASSWORD


@pytest.fixture
def city() -> dict[str, object]:
    org = create_organisation(identifier="city", kind="municipality", name_th="เทศบาลนครนนทบุรี", letter_code="นบ 52001")
    unit = create_organisation(identifier="city-clerk", parent=org, kind="division", name_th="สำนักปลัดเทศบาล")
    people: dict[str, object] = {"org": org, "unit": unit}
    for username, role, where in (
        ("registry", "central_clerk", org), ("mayor", "signer", org), ("unit.officer", "officer", unit),
        ("deputy", "officer", org), ("admin", "org_admin", org),
    ):
        person = create_person(username=username, name_th=f"บุคลากร {username}", password=PASSWORD)
        assign_role(person, where, role)
        people[username] = person
    for cleared in ("registry", "mayor"):
        grant_secrecy(people[cleared], org, "confidential", actor=None)  # type: ignore[arg-type]
    return people


def _assigned_confidential(city: dict[str, object]) -> IncomingLetter:
    org, registry, mayor = city["org"], city["registry"], city["mayor"]
    incoming = inbox.register_paper(org, inbox.PaperLetter(  # type: ignore[arg-type]
        sender_name="กองบัญชาการตำรวจนครบาล", letter_number="ตช 0015/77", letter_date=None,
        subject="ข้อมูลผู้ต้องหาลับ", secrecy=Secrecy.CONFIDENTIAL,
    ), scans=[(blank_pdf(), "application/pdf")], actor=registry)  # type: ignore[arg-type]
    inbox.endorse(incoming, actor=mayor, instruction="มอบสำนักปลัดดำเนินการ",  # type: ignore[arg-type]
                  assign=[inbox.AssignTo(unit=city["unit"])])  # type: ignore[arg-type]
    return IncomingLetter.objects.get(pk=incoming.pk)


@pytest.mark.django_db
def test_only_the_assigned_unit_and_grant_holders_see_it(city: dict[str, object]) -> None:
    incoming = _assigned_confidential(city)
    officer, deputy, admin = city["unit.officer"], city["deputy"], city["admin"]
    assert incoming_for(officer, incoming.pk) is not None  # type: ignore[arg-type]
    assert inbox.may_act_on(incoming.assignments.get(), officer)  # type: ignore[arg-type]
    assert list(my_assignments(officer)) == [incoming.assignments.get()]  # type: ignore[arg-type]
    for above in (deputy, admin):  # a role above the unit, no grant: neither sees nor acts
        assert incoming_for(above, incoming.pk) is None  # type: ignore[arg-type]
        assert not inbox.may_act_on(incoming.assignments.get(), above)  # type: ignore[arg-type]
        assert not my_assignments(above).exists()  # type: ignore[arg-type]
    assert incoming_for(city["mayor"], incoming.pk) is not None  # type: ignore[arg-type]


@pytest.mark.django_db
def test_the_api_and_the_pages_answer_404_without_a_grant(city: dict[str, object]) -> None:
    incoming = _assigned_confidential(city)
    for username in ("deputy", "admin"):
        person: Person = city[username]  # type: ignore[assignment]
        _row, token = issue_token(person, "tests")
        api = Client(headers={"Authorization": f"Bearer {token}"})
        for path in (f"/api/inbox/{incoming.pk}", f"/api/inbox/{incoming.pk}/original.pdf"):
            assert api.get(path).status_code == 404, (username, path)
        listed = api.get("/api/inbox").json()
        assert "ข้อมูลผู้ต้องหาลับ" not in str(listed)
        web = Client()
        web.force_login(person)
        for path in (f"/inbox/{incoming.pk}/", f"/inbox/{incoming.pk}/pdf"):
            assert web.get(path).status_code == 404, (username, path)
        assert "ข้อมูลผู้ต้องหาลับ" not in web.get("/work/").content.decode()
    officer: Person = city["unit.officer"]  # type: ignore[assignment]
    web = Client()
    web.force_login(officer)
    assert web.get(f"/inbox/{incoming.pk}/pdf").status_code == 200


def test_units_worked_in_is_the_role_and_what_is_above_it(db: None) -> None:
    from saraban.access.policy import units_worked_in

    top = create_organisation(identifier="t", kind="ministry", name_th="กระทรวงทดลอง")
    mid = create_organisation(identifier="m", parent=top, kind="department", name_th="กรมทดลอง")
    low = create_organisation(identifier="l", parent=mid, kind="division", name_th="กองทดลอง")
    person = create_person(username="p", name_th="นายทดลอง", password=PASSWORD)
    assign_role(person, mid, "officer")
    assert units_worked_in(person) == {top.pk, mid.pk}
    assert low.pk not in units_worked_in(person)
    assert isinstance(top, Organisation)
