"""The network pages: the registry's sending queue (send again, cancel) and the administrators' peers."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from saraban.directory.models import Organisation, Person
from saraban.directory.services import assign_role, create_person
from saraban.exchange.identity import forget_loaded_identities, make_identity
from saraban.exchange.models import DispatchStatus, MessageStatus, OutgoingMessage, Peer
from saraban.exchange.outbox import Outcome, record_outcome
from saraban.exchange.peering import remember_remote_organisation
from saraban.exchange.services import send_letter
from tests.helpers import PASSWORD, numbered
from tests.web.test_workflow_pages import draft

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_identity() -> None:
    forget_loaded_identities()


@pytest.fixture
def province() -> Organisation:
    sender = make_identity("saraban.chiangmai.go.th", deployment_id="b2b2b2b2-0000-4000-8000-000000000002")
    now = timezone.now()
    peer = Peer.objects.create(
        deployment_id=sender.deployment_id, name="saraban.chiangmai.go.th", endpoint="http://127.0.0.1:9",
        fingerprint=sender.fingerprint, certificate_der=sender.certificate.dump(), added_at=now, refreshed_at=now,
    )
    return remember_remote_organisation(peer, "chiang-mai", name_th="สำนักงานจังหวัดเชียงใหม่")


def _signed_in(person: Person) -> Client:
    client = Client()
    assert client.login(username=person.username, password=PASSWORD)
    return client


def test_the_registry_sees_its_queue_and_sends_again(
    agency: Organisation, clerk: Person, signer: Person, province: Organisation,
) -> None:
    letter = numbered(draft(agency, clerk, to=[province]), author=clerk, signer=signer, clerk=clerk)
    (dispatch,) = send_letter(letter, actor=clerk)
    client = _signed_in(clerk)
    page = client.get("/network/queue/")
    assert page.status_code == 200
    html = page.content.decode()
    assert letter.number in html and "สำนักงานจังหวัดเชียงใหม่" in html and "ยกเลิก" in html
    message = OutgoingMessage.objects.get()
    OutgoingMessage.objects.filter(pk=message.pk).update(give_up_at=timezone.now())
    record_outcome(message.pk, Outcome("retry", "ติดต่อระบบปลายทางไม่ได้: refused", "unreachable"))
    problems = client.get("/network/queue/?show=problems").content.decode()
    assert "ติดต่อระบบปลายทางไม่ได้" in problems and "ส่งอีกครั้ง" in problems
    work = client.get("/work/").content.decode()
    assert "ส่งไม่สำเร็จ" in work and letter.subject in work
    letter_page = client.get(f"/letters/{letter.pk}/").content.decode()
    assert "ระบบอื่น" in letter_page and "ดูคิวส่ง" in letter_page
    response = client.post(f"/network/queue/{message.pk}/send-again/", {"show": "problems"})
    assert response.status_code == 302
    message.refresh_from_db()
    dispatch.refresh_from_db()
    assert message.status == MessageStatus.PENDING and dispatch.status == DispatchStatus.SENDING
    client.post(f"/network/queue/{message.pk}/cancel/")
    message.refresh_from_db()
    assert message.status == MessageStatus.CANCELLED


def test_others_may_not_see_or_touch_the_queue(
    agency: Organisation, clerk: Person, signer: Person, province: Organisation, ministry: Organisation,
) -> None:
    letter = numbered(draft(agency, clerk, to=[province]), author=clerk, signer=signer, clerk=clerk)
    send_letter(letter, actor=clerk)
    message = OutgoingMessage.objects.get()
    outsider = create_person(username="outsider", name_th="นายคนนอก ไม่เกี่ยว", password=PASSWORD)
    other = Organisation.objects.create(identifier="other", kind="department", name_th="กรมอื่น")
    assign_role(outsider, other, "central_clerk")
    client = _signed_in(outsider)
    assert letter.number not in client.get("/network/queue/").content.decode()
    assert client.post(f"/network/queue/{message.pk}/cancel/").status_code == 404
    assert _signed_in(signer).get("/network/queue/").status_code == 403
    assert OutgoingMessage.objects.get().status == MessageStatus.PENDING


def test_peers_page_is_for_system_administrators(agency: Organisation, clerk: Person, province: Organisation) -> None:
    assert _signed_in(clerk).get("/network/peers/").status_code == 403
    admin = create_person(username="admin", name_th="นายผู้ดูแล ระบบ", password=PASSWORD)
    assign_role(admin, agency, "sys_admin")
    client = _signed_in(admin)
    page = client.get("/network/peers/").content.decode()
    assert "saraban.chiangmai.go.th" in page and "ลายนิ้วมือ" in page
    peer = Peer.objects.get()
    client.post(f"/network/peers/{peer.pk}/suspend/")
    assert not Peer.objects.get().is_active
    assert client.post(f"/network/peers/{peer.pk}/explode/").status_code == 404
    unreachable = client.post("/network/peers/", {"url": "http://127.0.0.1:9"}, follow=True).content.decode()
    assert "ติดต่อระบบปลายทางไม่ได้" in unreachable
    not_https = client.post("/network/peers/", {"url": "http://saraban.example.go.th"}, follow=True)
    assert "ที่อยู่ของระบบปลายทางไม่ถูกต้อง" in not_https.content.decode()
