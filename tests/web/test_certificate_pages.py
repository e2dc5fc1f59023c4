"""Certificate registry pages: my certificates (upload, withdraw, check), the organisation view, notices."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.test import Client, RequestFactory

from saraban.core.thai import local_date
from saraban.directory.models import Organisation, Person
from saraban.directory.services import assign_role, create_organisation, create_person
from saraban.signatures import registry
from saraban.signatures.models import ExpiryNotice, SigningCertificate
from saraban.signatures.notices import send_expiry_warnings
from saraban.web.views.certificates import notices_for

from ..signatures.conftest import pki  # noqa: F401  (the session's test PKI)
from ..signatures.pki import PASSWORD, TestPki

pytestmark = pytest.mark.django_db


def login(person: Person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def upload(running: TestPki, label: str = "signer", password: str = PASSWORD) -> dict[str, object]:
    data = running.path(f"{label}.p12").read_bytes()
    return {"file": SimpleUploadedFile(f"{label}.p12", data, "application/x-pkcs12"), "password": password}


@pytest.fixture
def org_admin(agency: Organisation) -> Person:
    person = create_person(username="orgadmin", name_th="นางสาวปวีณา ตั้งมั่น", password=None)
    assign_role(person, agency, "org_admin")
    return person


@pytest.fixture
def outsider(db: None) -> Person:
    other = create_organisation(identifier="nont", kind="provincial_office", name_th="จังหวัดนนทบุรี")
    person = create_person(username="outsider", name_th="นายภายนอก ต่างหน่วย", password=None)
    assign_role(person, other, "org_admin")
    return person


def test_upload_good_file_then_withdraw(pki: TestPki, signer: Person, agency: Organisation) -> None:  # noqa: F811
    client = login(signer)
    page = client.get("/certificates/")
    assert page.status_code == 200 and "ใบรับรองของฉัน" in page.content.decode()
    response = client.post("/certificates/", {**upload(pki), "label": "ใบรับรองหลัก"})
    assert response.status_code == 302 and response["Location"] == "/certificates/"
    cert = SigningCertificate.objects.get()
    assert (cert.holder, cert.organisation, cert.label) == (signer, agency, "ใบรับรองหลัก")
    body = client.get("/certificates/").content.decode()
    assert "นายทดสอบ ลงนาม" in body and cert.serial in body and "ลายมือชื่อดิจิทัล" in body
    assert "ไฟล์ PKCS#12" in body and "ยังไม่ได้ตรวจ" in body and "2583" in body  # 2040 in พ.ศ.
    assert PASSWORD not in body
    client.cookies["saraban_lang"] = "en"
    english = client.get("/certificates/").content.decode()
    client.cookies["saraban_lang"] = "th"
    assert "My certificates" in english and "digital signature" in english
    assert client.post(f"/certificates/{cert.pk}/withdraw/").status_code == 302
    assert not SigningCertificate.objects.get().active


@pytest.mark.parametrize(
    ("label", "password", "data", "th", "en"),
    [
        ("signer", "wrong", None, "รหัสผ่านของไฟล์ใบรับรองไม่ถูกต้อง", "Wrong password"),
        ("signer-expired", PASSWORD, None, "หมดอายุแล้ว", "expired on"),
        ("signer", PASSWORD, b"not a pkcs12 file", "ไม่ใช่ไฟล์ใบรับรองแบบ PKCS#12", "not a PKCS#12"),
    ],
)
def test_upload_bad_input_shows_the_reason(
    pki: TestPki, signer: Person, label: str, password: str, data: bytes | None, th: str, en: str,  # noqa: F811
) -> None:
    form = upload(pki, label, password)
    if data is not None:
        form["file"] = SimpleUploadedFile("x.p12", data, "application/x-pkcs12")
    client = login(signer)
    response = client.post("/certificates/", form)
    assert response.status_code == 400 and th in response.content.decode()
    client.cookies["saraban_lang"] = "en"
    english = client.post("/certificates/", {**upload(pki, label, password), **(
        {"file": SimpleUploadedFile("x.p12", data, "application/x-pkcs12")} if data is not None else {}
    )})
    assert english.status_code == 400 and en in english.content.decode()
    assert SigningCertificate.objects.count() == 0


def test_upload_without_file_or_password(signer: Person) -> None:
    response = login(signer).post("/certificates/", {})
    assert response.status_code == 400 and "ต้องกรอกช่องนี้" in response.content.decode()


def test_person_without_organisation_cannot_register(pki: TestPki) -> None:  # noqa: F811
    lonely = create_person(username="lonely", name_th="นายไร้สังกัด", password=None)
    client = login(lonely)
    assert client.get("/certificates/").status_code == 200
    response = client.post("/certificates/", upload(pki))
    assert response.status_code == 400 and "ไม่ได้สังกัดหน่วยงานใด" in response.content.decode()
    assert client.get("/certificates/organisation/").status_code == 403


def test_others_cannot_withdraw_or_check(
    pki: TestPki, signer: Person, clerk: Person, outsider: Person, agency: Organisation  # noqa: F811
) -> None:
    cert = registry.register_pkcs12(organisation=agency, holder=signer, data=pki.path("signer.p12").read_bytes(),
                                    password=PASSWORD, actor=signer)
    for person in (clerk, outsider):
        client = login(person)
        assert client.post(f"/certificates/{cert.pk}/withdraw/").status_code == 404
        assert client.post(f"/certificates/{cert.pk}/check/").status_code == 404
        assert "นายทดสอบ ลงนาม" not in client.get("/certificates/").content.decode()
    assert SigningCertificate.objects.get().active
    assert login(signer).get(f"/certificates/{cert.pk}/withdraw/").status_code == 405


def test_check_revocation_now(pki: TestPki, signer: Person, agency: Organisation, settings: object) -> None:  # noqa: F811
    settings.SARABAN_TRUST_ROOTS = [str(pki.path("root.cert.pem")), str(pki.path("interm.cert.pem"))]  # type: ignore[attr-defined]
    cert = registry.register_pkcs12(organisation=agency, holder=signer,
                                    data=pki.path("signer-revoked.p12").read_bytes(), password=PASSWORD, actor=signer)
    client = login(signer)
    response = client.post(f"/certificates/{cert.pk}/check/", follow=True)
    body = response.content.decode()
    assert response.status_code == 200 and "ผลการตรวจสอบการเพิกถอน: ถูกเพิกถอน" in body
    assert SigningCertificate.objects.get().revocation_status == "revoked"


def test_organisation_view_for_admin_holder_and_others(
    pki: TestPki, signer: Person, clerk: Person, org_admin: Person, outsider: Person, agency: Organisation,  # noqa: F811
) -> None:
    second = create_person(username="signer2", name_th="นางสาวยังไม่มี ใบรับรอง", password=None)
    assign_role(second, agency, "signer", position_title="ผู้อำนวยการกอง")
    registry.register_pkcs12(organisation=agency, holder=signer, data=pki.path("signer.p12").read_bytes(),
                             password=PASSWORD, actor=signer)
    page = login(org_admin).get("/certificates/organisation/")
    body = page.content.decode()
    assert page.status_code == 200
    assert signer.display_name in body and second.display_name in body
    assert "ไม่มีใบรับรองสำหรับลงลายมือชื่อ" in body and "ลงนามได้ขณะนี้" in body
    # The signer sees only their own row; the clerk (no certificate, not a signer) is refused.
    own = login(signer).get("/certificates/organisation/").content.decode()
    assert signer.display_name in own and second.display_name not in own
    assert login(clerk).get("/certificates/organisation/").status_code == 403
    other = login(outsider).get("/certificates/organisation/")
    assert other.status_code == 200 and signer.display_name not in other.content.decode()


def test_notices_partial_and_mark_read(
    pki: TestPki, signer: Person, org_admin: Person, agency: Organisation  # noqa: F811
) -> None:
    cert = registry.register_pkcs12(organisation=agency, holder=signer, data=pki.path("signer.p12").read_bytes(),
                                    password=PASSWORD, actor=signer)
    assert send_expiry_warnings(today=local_date(cert.not_after) - dt.timedelta(days=30)) == 2
    client = login(signer)
    body = client.get("/certificates/").content.decode()
    assert "แจ้งเตือนใบรับรองใกล้หมดอายุ" in body and "30" in body
    request = RequestFactory().get("/work/")
    request.user = signer
    notices = notices_for(request)
    assert len(notices) == 1
    html = render_to_string("web/certificates/_notices.html", {"certificate_notices": notices, "request": request})
    assert "/certificates/notices/" in html and "รับทราบ" in html
    mine = ExpiryNotice.objects.get(recipient=signer)
    theirs = ExpiryNotice.objects.get(recipient=org_admin)
    assert client.post(f"/certificates/notices/{theirs.pk}/read/").status_code == 404
    response = client.post(f"/certificates/notices/{mine.pk}/read/", {"next": "/work/"})
    assert response.status_code == 302 and response["Location"] == "/work/"
    assert ExpiryNotice.objects.get(pk=mine.pk).read_at is not None
    assert ExpiryNotice.objects.get(pk=theirs.pk).read_at is None
    assert "แจ้งเตือนใบรับรองใกล้หมดอายุ" not in client.get("/certificates/").content.decode()
    anonymous = RequestFactory().get("/")
    anonymous.user = AnonymousUser()
    assert notices_for(anonymous) == []


def test_an_administrator_chooses_the_signature_level(
    agency: Organisation, org_admin: Person, signer: Person, settings: object,
) -> None:
    from saraban.signatures.policy import certifies, signing_level

    admin = login(org_admin)
    assert 'name="level"' in admin.get("/certificates/organisation/").content.decode()
    # Without a TSA only B-B is possible: B-LTA is refused with the reason.
    settings.SARABAN_PADES = {"tsa_url": "", "level": ""}
    page = admin.post("/certificates/organisation/policy/", {"level": "B-LTA"}, follow=True).content.decode()
    assert "หน่วยประทับรับรองเวลา" in page and signing_level(agency.pk) == "B-B"
    settings.SARABAN_PADES = {"tsa_url": "http://127.0.0.1:9/tsa", "level": ""}
    assert signing_level(agency.pk) == "B-LTA"  # the default once a TSA is configured
    admin.post("/certificates/organisation/policy/", {"level": "B-T", "certify": "on"})
    assert signing_level(agency.pk) == "B-T" and certifies(agency.pk)
    # A signer is not an administrator: nothing changes.
    login(signer).post("/certificates/organisation/policy/", {"level": "B-B"})
    assert signing_level(agency.pk) == "B-T"
