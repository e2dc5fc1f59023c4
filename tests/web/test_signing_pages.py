"""PKI signing in the web UI: the letter page's sign form ("ลงนามด้วย") and batch signing (/work/sign/).

The signer holds the test PKI's ``signer.p12`` (password "secret"), registered in the agency. The pages
must offer only the signer's usable certificates and the typed-name fallback, number a letter signed
with a certificate at once, say a wrong password next to the box without writing anything, and keep
batches private to their signer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client, override_settings

from saraban.core.errors import StateRefused
from saraban.correspondence.batch import start_batch
from saraban.correspondence.models import Letter, LetterStatus
from saraban.correspondence.services import create_letter
from saraban.correspondence.workflow import submit_for_review
from saraban.directory.models import Organisation, Person
from saraban.directory.services import assign_role, create_organisation, create_person
from saraban.registers.models import RegisterEntry
from saraban.signatures.methods import SignerProof
from saraban.signatures.models import Signature, SignatureMethod, SigningBatch, SigningCertificate
from saraban.signatures.registry import register_pkcs12

from ..helpers import PASSWORD
from ..signatures.conftest import pki  # noqa: F401  (the session's test PKI)
from ..signatures.pki import PASSWORD as P12_PASSWORD
from ..signatures.pki import TestPki
from ..test_letters import example

pytestmark = pytest.mark.django_db

UNLOCK_FAILED_TH = "เปิดไฟล์ใบรับรอง (PKCS#12) ไม่ได้ รหัสผ่านไม่ถูกต้องหรือไฟล์เสียหาย"
NOT_A_CHOICE_TH = "ตัวเลือกนี้ไม่มีในรายการ"
ALL_SIGNED_TH = "ลงนามครบทุกฉบับแล้ว"


def client_for(person: Person) -> Client:
    """A test client signed in as ``person`` (Thai pages)."""
    client = Client()
    client.force_login(person)
    return client


def approved(organisation: Organisation, author: Person, signer: Person, subject: str) -> Letter:
    """An external letter of ``organisation`` awaiting ``signer``'s signature."""
    letter = create_letter(organisation, example("external", subject=subject), author=author)
    return submit_for_review(letter, actor=author, reviewers=[], signer=signer)


def field_errors(html: str, name: str) -> list[str]:
    """The error messages shown next to the form field ``name`` (``<p class="f-NAME has-error">``)."""
    block = re.search(rf'<p class="f-{name} has-error">(.*?)</p>', html, re.S)
    if block is None:
        return []
    return re.findall(r'<span class="field-error" role="alert">(.*?)</span>', block.group(1), re.S)


@pytest.fixture
def trusting(pki: TestPki) -> Iterator[None]:  # noqa: F811
    """Validation trusts the test PKI's root (as the demo deployment does)."""
    with override_settings(SARABAN_TRUST_ROOTS=[str(pki.path("root.cert.pem"))]):
        yield


@pytest.fixture
def certificate(pki: TestPki, agency: Organisation, signer: Person) -> SigningCertificate:  # noqa: F811
    """The signer's PKCS#12 certificate, registered in the agency."""
    data = pki.path("signer.p12").read_bytes()
    return register_pkcs12(organisation=agency, holder=signer, data=data, password=P12_PASSWORD, actor=signer)


@pytest.fixture
def deputy(agency: Organisation) -> Person:
    """A second signer of the agency, with no certificate of their own."""
    person = create_person(username="deputy", name_th="นายรอง ลงนาม", password=PASSWORD)
    assign_role(person, agency, "signer", position_title="ผู้ช่วยปลัดสำนักนายกรัฐมนตรี")
    return person


@pytest.fixture
def province(db: None) -> Organisation:
    """A second organisation where the signer also signs (e.g. an acting appointment elsewhere)."""
    return create_organisation(
        identifier="nont", kind="provincial_office", name_th="จังหวัดนนทบุรี", name_en="Nonthaburi Province",
        letter_code="นบ 0017", address="ศาลากลางจังหวัดนนทบุรี\nอำเภอเมืองนนทบุรี จังหวัดนนทบุรี 11000",
        phone="0 2580 0705", category="other",
    )


# --- the letter page's sign form ------------------------------------------------------------------


def test_the_sign_form_offers_my_certificate_and_the_typed_name(
    agency: Organisation, clerk: Person, signer: Person, certificate: SigningCertificate,
) -> None:
    letter = approved(agency, clerk, signer, "ขอเชิญประชุมคณะทำงาน")
    html = client_for(signer).get(f"/letters/{letter.pk}/").content.decode()
    form = re.search(r'<form method="post" action="/letters/\d+/sign/".*?</form>', html, re.S)
    assert form is not None, "no sign form on the letter page"
    choices = re.findall(r'name="how" value="([^"]+)"', form.group(0))
    assert choices == [f"cert-{certificate.pk}", "typed"]
    assert "ลายมือชื่อดิจิทัล:" in form.group(0) and "ใส่รหัสผ่านไฟล์ใบรับรอง" in form.group(0)
    assert "พิมพ์ชื่อในระบบ (ใส่รหัสผ่านเข้าระบบของท่าน)" in form.group(0)
    # The certificate is the first choice, chosen already.
    assert re.search(rf'value="cert-{certificate.pk}"[^>]*checked', form.group(0))


def test_signing_with_the_certificate_numbers_the_letter(
    agency: Organisation, clerk: Person, signer: Person, certificate: SigningCertificate, trusting: None,
) -> None:
    letter = approved(agency, clerk, signer, "ขอเชิญประชุมคณะทำงาน")
    client = client_for(signer)
    response = client.post(f"/letters/{letter.pk}/sign/",
                           {"how": f"cert-{certificate.pk}", "password": P12_PASSWORD})
    assert response.status_code == 302 and response["Location"] == f"/letters/{letter.pk}/"
    letter.refresh_from_db()
    assert letter.status == LetterStatus.NUMBERED and letter.number == "นร 0105/1"
    signature = Signature.objects.get(letter=letter)
    assert signature.method == SignatureMethod.PADES and signature.certificate == certificate
    assert signature.level == "B-B"
    page = client.get(response["Location"]).content.decode()
    assert "ลงนามแล้ว" in page and "PAdES B-B" in page
    assert f'href="/verify?d={signature.pdf_sha256}"' in page


def test_a_wrong_p12_password_is_said_next_to_the_box_and_writes_nothing(
    agency: Organisation, clerk: Person, signer: Person, certificate: SigningCertificate,
) -> None:
    letter = approved(agency, clerk, signer, "ขอเชิญประชุมคณะทำงาน")
    response = client_for(signer).post(f"/letters/{letter.pk}/sign/",
                                       {"how": f"cert-{certificate.pk}", "password": "not-the-password"})
    assert response.status_code == 403
    html = response.content.decode()
    assert field_errors(html, "password") == [UNLOCK_FAILED_TH]
    assert "not-the-password" not in html  # the password box is not filled in again
    letter.refresh_from_db()
    assert letter.status == LetterStatus.APPROVED and not letter.number
    assert not RegisterEntry.objects.exists() and not Signature.objects.exists()


def test_a_certificate_that_is_not_offered_is_refused(
    agency: Organisation, clerk: Person, signer: Person, deputy: Person, certificate: SigningCertificate,
) -> None:
    # The deputy signs this letter and tries the signer's certificate (its id is easy to guess).
    letter = approved(agency, clerk, deputy, "ขอเชิญประชุมคณะทำงาน")
    client = client_for(deputy)
    for how in (f"cert-{certificate.pk}", "cert-999999", "typed; drop table"):
        response = client.post(f"/letters/{letter.pk}/sign/", {"how": how, "password": P12_PASSWORD})
        assert response.status_code == 400, how
        html = response.content.decode()
        assert NOT_A_CHOICE_TH in html, how
    # The deputy's page offers the typed name only.
    html = client.get(f"/letters/{letter.pk}/").content.decode()
    assert re.findall(r'name="how" value="([^"]+)"', html) == ["typed"]
    letter.refresh_from_db()
    assert letter.status == LetterStatus.APPROVED and not Signature.objects.exists()


def test_the_typed_name_stays_available_with_the_sign_in_password(
    agency: Organisation, clerk: Person, signer: Person, certificate: SigningCertificate,
) -> None:
    letter = approved(agency, clerk, signer, "ขอเชิญประชุมคณะทำงาน")
    client = client_for(signer)
    wrong = client.post(f"/letters/{letter.pk}/sign/", {"how": "typed", "password": P12_PASSWORD})
    assert wrong.status_code == 403 and field_errors(wrong.content.decode(), "password")
    response = client.post(f"/letters/{letter.pk}/sign/", {"how": "typed", "password": PASSWORD})
    assert response.status_code == 302
    letter.refresh_from_db()
    assert letter.status == LetterStatus.SIGNED and not letter.number  # the registry numbers it later
    assert Signature.objects.get(letter=letter).method == SignatureMethod.TYPED_NAME


# --- batch signing ---------------------------------------------------------------------------------


def test_the_batch_page_lists_only_my_approved_letters_of_the_acting_organisation(
    agency: Organisation, province: Organisation, clerk: Person, signer: Person, deputy: Person,
) -> None:
    mine = [approved(agency, clerk, signer, f"เรื่องรอลงนามที่ {n}") for n in (1, 2)]
    approved(agency, clerk, deputy, "เรื่องของผู้ลงนามคนอื่น")
    create_letter(agency, example("external", subject="เรื่องที่ยังเป็นร่าง"), author=clerk)
    province_clerk = create_person(username="nont.clerk", name_th="นางสาวมาลี ใจดี", password=PASSWORD)
    assign_role(province_clerk, province, "central_clerk", position_title="เจ้าพนักงานธุรการ")
    assign_role(signer, province, "signer", position_title="รองผู้ว่าราชการจังหวัดนนทบุรี")
    elsewhere = approved(province, province_clerk, signer, "เรื่องของจังหวัดนนทบุรี")

    client = client_for(signer)
    client.post("/acting-organisation/", {"organisation": str(agency.pk)})
    html = client.get("/work/sign/").content.decode()
    offered = {int(pk) for pk in re.findall(r'name="letters" value="(\d+)"', html)}
    assert offered == {x.pk for x in mine}
    for subject in ("เรื่องของผู้ลงนามคนอื่น", "เรื่องที่ยังเป็นร่าง", "เรื่องของจังหวัดนนทบุรี"):
        assert subject not in html
    # Working for the province: only its letter; the agency's cannot be slipped into a batch from there.
    client.post("/acting-organisation/", {"organisation": str(province.pk)})
    html = client.get("/work/sign/").content.decode()
    assert {int(pk) for pk in re.findall(r'name="letters" value="(\d+)"', html)} == {elsewhere.pk}
    response = client.post("/work/sign/", {"letters": [str(mine[0].pk)], "how": "typed", "password": PASSWORD})
    assert response.status_code == 400 and "มีหนังสือที่ไม่ได้รอการลงนามของท่านแล้ว" in response.content.decode()
    assert not SigningBatch.objects.exists()


def test_a_batch_with_no_letters_is_refused(
    agency: Organisation, clerk: Person, signer: Person, certificate: SigningCertificate,
) -> None:
    approved(agency, clerk, signer, "เรื่องรอลงนาม")
    response = client_for(signer).post("/work/sign/", {"how": f"cert-{certificate.pk}", "password": P12_PASSWORD})
    assert response.status_code == 400
    html = response.content.decode()
    shown = re.findall(r'<p class="field-error" role="alert">([^<]+)</p>', html)
    assert shown and re.search(r"[\u0e00-\u0e7f]", shown[0]), "no Thai error under the letter list"
    assert not SigningBatch.objects.exists()


def test_a_batch_with_a_wrong_password_starts_nothing(
    agency: Organisation, clerk: Person, signer: Person, certificate: SigningCertificate,
) -> None:
    letters = [approved(agency, clerk, signer, f"เรื่องรอลงนามที่ {n}") for n in (1, 2)]
    response = client_for(signer).post("/work/sign/", {
        "letters": [str(x.pk) for x in letters], "how": f"cert-{certificate.pk}", "password": "not-the-password",
    })
    assert response.status_code == 403
    html = response.content.decode()
    assert field_errors(html, "password") == [UNLOCK_FAILED_TH]
    # The letters chosen stay ticked, so the signer only retypes the password.
    for letter in letters:
        assert re.search(rf'name="letters" value="{letter.pk}"[^>]*checked', html)
    assert not SigningBatch.objects.exists()
    assert all(Letter.objects.get(pk=x.pk).status == LetterStatus.APPROVED for x in letters)
    assert not RegisterEntry.objects.exists()


def test_a_finished_batch_shows_every_letter_signed_and_is_private(
    agency: Organisation, clerk: Person, signer: Person, deputy: Person, certificate: SigningCertificate,
    trusting: None,
) -> None:
    letters = [approved(agency, clerk, signer, f"เรื่องรอลงนามที่ {n}") for n in range(1, 4)]
    batch = start_batch(signer=signer, organisation=agency, letter_ids=[x.pk for x in letters],
                        proof=SignerProof(P12_PASSWORD), certificate=certificate, background=False)
    response = client_for(signer).get(f"/work/sign/{batch.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert ALL_SIGNED_TH in html and "100%" in html
    assert 'hx-trigger="every 1s"' not in html  # a finished batch is no longer polled
    assert "ลงนามต่อ" not in html  # nothing to resume
    for n, letter in enumerate(letters, start=1):
        assert f'<a href="/letters/{letter.pk}/">เรื่องรอลงนามที่ {n}</a>' in html
        assert f"<td>นร 0105/{n}</td>" in html
    # The htmx poll gets the fragment only.
    fragment = client_for(signer).get(f"/work/sign/{batch.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<div id="batch"') and ALL_SIGNED_TH in fragment
    # Somebody else's batch does not exist for them (nor can they resume it).
    other = client_for(deputy)
    assert other.get(f"/work/sign/{batch.pk}/").status_code == 404
    assert other.post(f"/work/sign/{batch.pk}/resume/", {"how": "typed", "password": PASSWORD}).status_code == 404
    assert client_for(signer).get("/work/sign/999999/").status_code == 404


def test_a_finished_batch_cannot_be_resumed(
    agency: Organisation, clerk: Person, signer: Person, certificate: SigningCertificate,
) -> None:
    letter = approved(agency, clerk, signer, "เรื่องรอลงนาม")
    batch = start_batch(signer=signer, organisation=agency, letter_ids=[letter.pk],
                        proof=SignerProof(P12_PASSWORD), certificate=certificate, background=False)
    response = client_for(signer).post(f"/work/sign/{batch.pk}/resume/",
                                       {"how": f"cert-{certificate.pk}", "password": P12_PASSWORD})
    assert response.status_code == 409
    assert "ชุดลงนามนี้ไม่ได้หยุดกลางคัน" in response.content.decode()


def test_an_interrupted_batch_offers_to_sign_the_rest(
    agency: Organisation, clerk: Person, signer: Person, certificate: SigningCertificate,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    letters = [approved(agency, clerk, signer, f"เรื่องรอลงนามที่ {n}") for n in range(1, 4)]
    from saraban.correspondence import workflow

    real_sign = workflow.sign_letter

    def second_refused(letter: Letter, **kwargs: Any) -> Any:
        if letter.pk == letters[1].pk:
            raise StateRefused(code="letter.test_refusal", message_th="หนังสือถูกส่งกลับแก้ไข",
                               message_en="The letter was returned")
        return real_sign(letter, **kwargs)

    monkeypatch.setattr(workflow, "sign_letter", second_refused)
    batch = start_batch(signer=signer, organisation=agency, letter_ids=[x.pk for x in letters],
                        proof=SignerProof(P12_PASSWORD), certificate=certificate, background=False)
    client = client_for(signer)
    html = client.get(f"/work/sign/{batch.pk}/").content.decode()
    assert "หยุดกลางคัน: ลงนามแล้ว 2/3 ฉบับ" in html and "ลงนามต่อ" in html
    assert "หนังสือถูกส่งกลับแก้ไข" in html  # the failed letter says why
    assert f'action="/work/sign/{batch.pk}/resume/"' in html
    response = client.post(f"/work/sign/{batch.pk}/resume/",
                           {"how": f"cert-{certificate.pk}", "password": "not-the-password"})
    assert response.status_code == 403
    assert field_errors(response.content.decode(), "password") == [UNLOCK_FAILED_TH]
    assert Letter.objects.get(pk=letters[1].pk).status == LetterStatus.APPROVED


def test_the_batch_page_never_shows_done_next_to_a_row_not_signed(
    agency: Organisation, clerk: Person, signer: Person, monkeypatch: pytest.MonkeyPatch,
) -> None:
    letters = [approved(agency, clerk, signer, f"เรื่องรอลงนามที่ {n}") for n in (1, 2)]
    from saraban.correspondence import workflow
    from saraban.correspondence.batch import resume_batch
    from saraban.signatures.batch import batch_progress
    from saraban.web.views import signing

    real_sign = workflow.sign_letter

    def second_refused_once(letter: Letter, **kwargs: Any) -> Any:
        if letter.pk == letters[1].pk and not getattr(second_refused_once, "done", False):
            second_refused_once.done = True  # type: ignore[attr-defined]
            raise StateRefused(code="letter.test_refusal", message_th="ลองใหม่", message_en="Try again")
        return real_sign(letter, **kwargs)

    monkeypatch.setattr(workflow, "sign_letter", second_refused_once)
    batch = start_batch(signer=signer, organisation=agency, letter_ids=[x.pk for x in letters],
                        proof=SignerProof(PASSWORD), background=False)

    def progress_after_the_batch_ends(seen: SigningBatch) -> Any:
        # The batch's thread finishes the last letter while the page is being put together.
        if batch_progress(seen).status == "interrupted":
            resume_batch(seen, actor=signer, proof=SignerProof(PASSWORD), background=False)
        return batch_progress(seen)

    monkeypatch.setattr(signing, "batch_progress", progress_after_the_batch_ends)
    html = client_for(signer).get(f"/work/sign/{batch.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert ALL_SIGNED_TH in html
    assert html.count('class="state-signed"') == 2, "a row is not signed next to “every letter is signed”"
