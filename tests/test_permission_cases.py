"""The seven cases of issue 15 where the pages, the API and the services each decided for themselves.

Each test failed on the code before the rules moved to one place (``correspondence.permissions``,
``inbox.permissions``); case 2 was already fixed by ``access.policy.hide_classified_details``.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client

from saraban.access.services import grant_secrecy
from saraban.api.auth import issue_token
from saraban.core.errors import PermissionRefused, SarabanError
from saraban.correspondence.models import Letter
from saraban.correspondence.services import cancel_letter, create_letter, start_correction, update_letter
from saraban.correspondence.workflow import close_letter, set_recipients, submit_for_review
from saraban.directory.models import Organisation, Person
from saraban.directory.services import appoint_acting, assign_role, create_organisation, create_person
from saraban.exchange.services import send_letter
from saraban.inbox import services as inbox
from saraban.inbox.models import IncomingLetter
from saraban.regulation.kinds import Secrecy

from .api import Api
from .api.test_api_inbox import blank_pdf
from .helpers import PASSWORD, numbered, signed
from .test_letters import example

pytestmark = pytest.mark.django_db


def _person(username: str, role: str, where: Organisation) -> Person:
    person = create_person(username=username, name_th=f"บุคลากร {username}", password=PASSWORD)
    assign_role(person, where, role)
    return person


def _api(person: Person) -> Api:
    return Api(issue_token(person, "tests")[1])


def _web(person: Person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def _offered(person: Person, letter: Letter) -> set[str]:
    """The actions the letter page offers ``person`` (its forms and the edit link)."""
    page = _web(person).get(f"/letters/{letter.pk}/")
    assert page.status_code == 200
    return set(re.findall(rf'(?:action|href)="/letters/{letter.pk}/(\w+)/"', page.content.decode()))


def _code(call: object) -> str:
    try:
        call()  # type: ignore[operator]
    except SarabanError as exc:
        return exc.code
    return ""


# 1. A ministry officer without a grant: a classified letter assigned to a unit below them does not exist
#    for them (404, as the page and the letter's own route answer), not "not yours" (403).
def test_1_a_classified_assignment_below_a_ministry_officer_is_not_found(ministry: Organisation,
                                                                         agency: Organisation) -> None:
    unit = create_organisation(identifier="opm-ops-dev", parent=agency, kind="division", name_th="กองพัฒนาระบบบริหาร")
    registry, executive = _person("registry", "central_clerk", agency), _person("executive", "signer", agency)
    for cleared in (registry, executive):
        grant_secrecy(cleared, agency, "confidential", actor=None)
    officer = _person("ministry.officer", "officer", ministry)
    assignments = {}
    for secrecy in (Secrecy.NORMAL, Secrecy.CONFIDENTIAL):
        incoming = inbox.register_paper(agency, inbox.PaperLetter(
            sender_name="กองบัญชาการตำรวจนครบาล", letter_number="ตช 0015/77", letter_date=None,
            subject=f"เรื่อง {secrecy.value}", secrecy=secrecy,
        ), scans=[(blank_pdf(), "application/pdf")], actor=registry)
        inbox.endorse(incoming, actor=executive, instruction="มอบกองพัฒนาระบบบริหาร", assign=[inbox.AssignTo(unit=unit)])
        assignments[secrecy] = IncomingLetter.objects.get(pk=incoming.pk).assignments.get()
    api = _api(officer)
    confidential = assignments[Secrecy.CONFIDENTIAL]
    assert api.get(f"/inbox/{confidential.incoming_id}").status_code == 404
    refused = api.post(f"/assignments/{confidential.pk}/complete", {"note": "ดำเนินการแล้ว"})
    assert refused.status_code == 404, refused.json()
    # An unclassified one they may see (a role above the unit), but not act on.
    normal = assignments[Secrecy.NORMAL]
    assert api.get(f"/inbox/{normal.incoming_id}").status_code == 200
    refused = api.post(f"/assignments/{normal.pk}/complete", {"note": "ดำเนินการแล้ว"})
    assert refused.status_code == 403 and refused.json()["code"] == "assignment.not_yours"
    assert "/complete/" not in _web(officer).get(f"/inbox/{normal.incoming_id}/").content.decode()


# 2. A central clerk without a grant reads no subject of a classified letter in the registers
#    (already so since issue 9 item 6, ``hide_classified_details``: this test passed before too).
def test_2_a_central_clerk_without_a_grant_reads_no_classified_subject(agency: Organisation, clerk: Person,
                                                                       signer: Person) -> None:
    grant_secrecy(clerk, agency, "secret", actor=None)
    outgoing = create_letter(agency, example("external", subject="แผนลับส่งออก", secrecy="secret"), author=clerk)
    numbered(outgoing, author=clerk, signer=signer, clerk=clerk)
    inbox.register_paper(agency, inbox.PaperLetter(
        sender_name="กองบัญชาการตำรวจนครบาล", letter_number="ตช 0015/78", letter_date=None,
        subject="แผนลับรับเข้า", secrecy=Secrecy.SECRET,
    ), scans=[(blank_pdf(), "application/pdf")], actor=clerk)
    plain = _person("plain.registry", "central_clerk", agency)
    for kind, subject in (("send_classified", "แผนลับส่งออก"), ("receive_classified", "แผนลับรับเข้า")):
        listed = _api(plain).get("/registers/entries", kind=kind).json()
        assert listed["count"] == 1 and subject not in str(listed), kind
        page = _web(plain).get("/registers/", {"kind": kind})
        assert page.status_code == 200 and subject not in page.content.decode(), kind
        assert subject in str(_api(clerk).get("/registers/entries", kind=kind).json()), kind


# 3. An officer who is not the author starts no correction: not through the API, the page or the service.
def test_3_only_the_author_or_the_registry_starts_a_correction(agency: Organisation, clerk: Person,
                                                               signer: Person) -> None:
    letter = numbered(create_letter(agency, example("external"), author=clerk), author=clerk, signer=signer,
                      clerk=clerk)
    officer = _person("officer", "officer", agency)
    refused = _api(officer).post(f"/letters/{letter.pk}/correction")
    assert refused.status_code == 403 and refused.json()["code"] == "letter.not_author"
    assert "correct" not in _offered(officer, letter)
    with pytest.raises(PermissionRefused) as raised:
        start_correction(letter, actor=officer)
    assert raised.value.code == "letter.not_author"
    assert not Letter.objects.filter(supersedes=letter).exists()
    assert "correct" in _offered(clerk, letter)


# 4. A system administrator: the page, the service and the API give one answer about cancelling.
def test_4_cancelling_is_one_answer_for_a_system_administrator(agency: Organisation, clerk: Person) -> None:
    admin = _person("sysadmin", "sys_admin", agency)
    first = create_letter(agency, example("external"), author=clerk)
    second = create_letter(agency, example("external"), author=clerk)
    offered = "cancel" in _offered(admin, first)
    answer = _api(admin).post(f"/letters/{first.pk}/cancel", {"reason": "ผิดพลาด"})
    service = _code(lambda: cancel_letter(second, reason="ผิดพลาด", actor=admin))
    assert (answer.status_code == 200) == offered == (service == ""), (answer.json(), offered, service)


# 5. "Edit" is offered only to who may edit: the author or a registry clerk, not every drafter.
def test_5_edit_is_offered_only_to_who_may_edit(agency: Organisation, clerk: Person) -> None:
    letter = create_letter(agency, example("external"), author=clerk)
    drafter = _person("other.officer", "officer", agency)
    assert not {"edit", "submit"} & _offered(drafter, letter)
    assert _web(drafter).get(f"/letters/{letter.pk}/edit/").status_code == 302
    assert _code(lambda: update_letter(letter, {"subject": "เรื่องใหม่"}, actor=drafter)) == "letter.not_author"
    refused = _api(drafter).patch(f"/letters/{letter.pk}", {"content": {"subject": "เรื่องใหม่"}})
    assert refused.status_code == 403 and refused.json()["code"] == "letter.not_author"
    assert {"edit", "submit"} <= _offered(clerk, letter)


# 6. Acting officials: they endorse on any acting appointment, but sign only for the designated signer
#    (or as acting in the post, naming nobody). The web and the API work queues count them alike.
def test_6_acting_officials_queues_agree(agency: Organisation, clerk: Person, signer: Person) -> None:
    deputy = _person("deputy", "reviewer", agency)
    today = dt.date.today()
    appoint_acting(deputy, agency, position_title="ปลัดสำนักนายกรัฐมนตรี", starts_on=today - dt.timedelta(days=1),
                   ends_on=today + dt.timedelta(days=1), on_behalf_of=signer)
    other_signer = _person("other.signer", "signer", agency)
    mine = submit_for_review(create_letter(agency, example("external"), author=clerk), actor=clerk, reviewers=[],
                             signer=signer)
    not_mine = submit_for_review(create_letter(agency, example("external"), author=clerk), actor=clerk,
                                 reviewers=[], signer=other_signer)
    inbox.register_paper(agency, inbox.PaperLetter(
        sender_name="กรมบัญชีกลาง", letter_number="กค 0405/1", letter_date=None, subject="ขอเชิญประชุม",
    ), scans=[(blank_pdf(), "application/pdf")], actor=clerk)
    assert "sign" in _offered(deputy, mine) and "sign" not in _offered(deputy, not_mine)
    counts = _api(deputy).get("/work").json()["counts"]
    assert counts["sign"] == 1 and counts["endorse"] == 1, counts
    sections = {s.key: s.count for s in _web(deputy).get("/work/").context["sections"]}
    assert sections["sign"] == counts["sign"] and sections["endorse"] == counts["endorse"], sections


# 7. One refusal, one code: writing without a drafting role is ``letter.not_drafter`` everywhere, and
#    ``letter.not_author`` names one rule (the author or a registry clerk), not closing's.
def test_7_one_refusal_one_code(agency: Organisation, clerk: Person, signer: Person) -> None:
    outsider = _person("org.admin", "org_admin", agency)
    service = _code(lambda: create_letter(agency, example("external"), author=outsider))
    answer = _api(outsider).post("/letters", {"organisation_id": agency.pk, "content": example("external")})
    assert service == answer.json()["code"] == "letter.not_drafter", (service, answer.json())
    unit_clerk = _person("unit.clerk", "unit_clerk", agency)
    draft = create_letter(agency, example("external"), author=clerk)
    other = create_organisation(identifier="nont", kind="provincial_office", name_th="จังหวัดนนทบุรี")
    sent = create_letter(agency, example("external"), author=clerk)
    set_recipients(sent, [other], [], actor=clerk)
    sent = numbered(sent, author=clerk, signer=signer, clerk=clerk)
    send_letter(sent, actor=clerk)
    stranger = _person("stranger", "officer", agency)
    codes = {
        "edit": _code(lambda: update_letter(draft, {"subject": "ใหม่"}, actor=stranger)),
        "recipients": _code(lambda: set_recipients(draft, [other], [], actor=stranger)),
        "submit": _code(lambda: submit_for_review(draft, actor=stranger, reviewers=[], signer=signer)),
        "cancel": _code(lambda: cancel_letter(draft, reason="ผิด", actor=stranger)),
        "correct": _code(lambda: start_correction(sent, actor=stranger)),
        "close": _code(lambda: close_letter(sent, actor=unit_clerk)),
    }
    assert {k: v for k, v in codes.items() if k != "close"} == dict.fromkeys(
        ("edit", "recipients", "submit", "cancel", "correct"), "letter.not_author")
    assert codes["close"] not in ("", "letter.not_author"), codes
    assert signed  # the helpers stay imported for the cases above
