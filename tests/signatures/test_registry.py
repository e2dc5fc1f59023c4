"""The certificate registry: registration with the test PKI, revocation, who can sign, warnings, counts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.core import mail

from saraban.audit.models import AuditEvent
from saraban.core.errors import PermissionRefused, StateRefused, ValidationFailed
from saraban.core.thai import BANGKOK
from saraban.directory.models import Organisation, Person
from saraban.directory.services import assign_role, create_organisation, create_person
from saraban.signatures import registry, selectors
from saraban.signatures.models import ExpiryNotice, KeyLocation, RevocationStatus, SigningCertificate
from saraban.signatures.notices import mark_read, send_expiry_warnings, threshold_for, unread_notices
from saraban.signatures.pades.keys import KeyUnavailable

from .pki import PASSWORD, TestPki

pytestmark = pytest.mark.django_db


def p12_bytes(pki: TestPki, label: str = "signer") -> bytes:
    return pki.path(f"{label}.p12").read_bytes()


@pytest.fixture
def org_admin(agency: Organisation) -> Person:
    person = create_person(username="orgadmin", name_th="นางสาวปวีณา ตั้งมั่น", password=None,
                           email="admin@opm.go.th")
    assign_role(person, agency, "org_admin", position_title="นักวิชาการคอมพิวเตอร์")
    return person


@pytest.fixture
def other_org(db: None) -> Organisation:
    return create_organisation(identifier="nont", kind="provincial_office", name_th="จังหวัดนนทบุรี",
                               name_en="Nonthaburi Province", letter_code="นบ 0017")


@pytest.fixture
def outsider(other_org: Organisation) -> Person:
    person = create_person(username="outsider", name_th="นายภายนอก ต่างหน่วย", password=None)
    assign_role(person, other_org, "org_admin")
    assign_role(person, other_org, "signer")
    return person


def register(pki: TestPki, agency: Organisation, signer: Person, label: str = "signer") -> SigningCertificate:
    return registry.register_pkcs12(organisation=agency, holder=signer, data=p12_bytes(pki, label),
                                    password=PASSWORD, actor=signer)


def test_register_pkcs12_fills_the_facts_and_keeps_no_password(
    pki: TestPki, agency: Organisation, signer: Person
) -> None:
    cert = register(pki, agency, signer)
    expected = pki.cert("signer")
    assert cert.key_location == KeyLocation.FILE and cert.active and cert.holder == signer
    assert "นายทดสอบ ลงนาม" in cert.subject and "Saraban Test Intermediate CA" in cert.issuer
    assert int(cert.serial, 16) == expected.serial_number
    assert cert.not_after == expected.not_valid_after and cert.not_before == expected.not_valid_before
    assert set(cert.key_usage.split(",")) == {"digital_signature", "non_repudiation"}
    assert cert.fingerprint_sha256 == registry.fingerprint(expected)
    assert bytes(cert.certificate) == expected.dump()
    assert cert.pkcs12 is not None and cert.revocation_status == RevocationStatus.NOT_CHECKED
    # The file is kept as uploaded (encrypted with its password); the password is nowhere in the row.
    from saraban.documents.services import read_file

    assert read_file(cert.pkcs12.sha256) == p12_bytes(pki)
    row = SigningCertificate.objects.filter(pk=cert.pk).values().get()
    assert not any(PASSWORD in str(v) for k, v in row.items() if k != "certificate")
    event = AuditEvent.objects.get(action="signatures.certificate_registered")
    assert PASSWORD not in str(event.detail)


def test_open_key_with_the_password_and_refuse_a_wrong_one(
    pki: TestPki, agency: Organisation, signer: Person
) -> None:
    cert = register(pki, agency, signer)
    key = registry.open_key(cert, PASSWORD)
    try:
        assert key.certificate.dump() == bytes(cert.certificate)
    finally:
        key.close()
    with pytest.raises(KeyUnavailable):
        registry.open_key(cert, "wrong")


def test_registering_again_reactivates(pki: TestPki, agency: Organisation, signer: Person) -> None:
    first = register(pki, agency, signer)
    registry.withdraw(first, actor=signer)
    again = register(pki, agency, signer)
    assert again.pk == first.pk and again.active
    assert SigningCertificate.objects.count() == 1
    with pytest.raises(StateRefused):
        registry.open_key(registry.withdraw(again, actor=signer), PASSWORD)


@pytest.mark.parametrize(
    ("label", "data", "password", "field", "code"),
    [
        ("signer", None, "wrong", "password", "certificate.wrong_password"),
        ("signer", b"%PDF-1.7 not a certificate", PASSWORD, "file", "certificate.not_pkcs12"),
        ("signer", b"", PASSWORD, "file", "certificate.file_empty"),
        ("signer-expired", None, PASSWORD, "file", "certificate.expired"),
    ],
)
def test_register_refuses_bad_input(
    pki: TestPki, agency: Organisation, signer: Person, label: str, data: bytes | None, password: str,
    field: str, code: str,
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        registry.register_pkcs12(organisation=agency, holder=signer,
                                 data=p12_bytes(pki, label) if data is None else data,
                                 password=password, actor=signer)
    problem = refused.value.problems[0]
    assert (problem.field, problem.code) == (field, code)
    assert problem.message_th and problem.message_en
    assert SigningCertificate.objects.count() == 0


def _p12_without_signing_usage() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, "เข้ารหัสเท่านั้น")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        cx509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1234).not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=365))
        .add_extension(cx509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=True,
                                      data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                      crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .sign(key, hashes.SHA256())
    )
    return pkcs12.serialize_key_and_certificates(
        b"enc", key, cert, None, serialization.BestAvailableEncryption(PASSWORD.encode())
    )


def test_register_refuses_a_certificate_not_for_signing(agency: Organisation, signer: Person) -> None:
    with pytest.raises(ValidationFailed) as refused:
        registry.register_pkcs12(organisation=agency, holder=signer, data=_p12_without_signing_usage(),
                                 password=PASSWORD, actor=signer)
    assert refused.value.problems[0].code == "certificate.not_for_signing"


def test_register_permissions(
    pki: TestPki, agency: Organisation, signer: Person, clerk: Person, org_admin: Person, outsider: Person,
    other_org: Organisation,
) -> None:
    # A colleague may not register for the signer; an administrator may.
    with pytest.raises(PermissionRefused):
        registry.register_pkcs12(organisation=agency, holder=signer, data=p12_bytes(pki), password=PASSWORD,
                                 actor=clerk)
    with pytest.raises(PermissionRefused):  # an administrator elsewhere may not either
        registry.register_pkcs12(organisation=agency, holder=signer, data=p12_bytes(pki), password=PASSWORD,
                                 actor=outsider)
    with pytest.raises(PermissionRefused):  # the holder must work in the organisation
        registry.register_pkcs12(organisation=other_org, holder=signer, data=p12_bytes(pki), password=PASSWORD,
                                 actor=signer)
    cert = registry.register_pkcs12(organisation=agency, holder=signer, data=p12_bytes(pki), password=PASSWORD,
                                    actor=org_admin)
    assert cert.registered_by == org_admin
    # Another organisation's administrator can neither see nor withdraw it.
    assert list(selectors.organisation_certificates(other_org)) == []
    assert list(selectors.certificates_of(outsider)) == []
    assert selectors.usable_certificates(outsider, agency) == []
    with pytest.raises(PermissionRefused):
        registry.withdraw(cert, actor=outsider)
    with pytest.raises(PermissionRefused):
        registry.withdraw(cert, actor=clerk)
    assert SigningCertificate.objects.get(pk=cert.pk).active
    registry.withdraw(cert, actor=org_admin)
    assert not SigningCertificate.objects.get(pk=cert.pk).active


def test_check_revocation_good_and_revoked(pki: TestPki, agency: Organisation, signer: Person) -> None:
    chain = [pki.cert("root"), pki.cert("interm")]
    good = registry.check_revocation(register(pki, agency, signer), trust_roots=chain)
    assert (good.revocation_status, good.revocation_source) == (RevocationStatus.GOOD, "ocsp")
    assert good.revocation_checked_at is not None
    revoked = registry.check_revocation(register(pki, agency, signer, "signer-revoked"), trust_roots=chain)
    assert (revoked.revocation_status, revoked.revocation_source) == (RevocationStatus.REVOKED, "ocsp")
    assert selectors.usable_certificates(signer, agency) == [good]


def test_check_revocation_never_raises_without_an_answer(pki: TestPki, agency: Organisation, signer: Person) -> None:
    cert = register(pki, agency, signer)
    # Nothing may be fetched: the chain is known but the OCSP responder and CRL cannot be asked.
    checked = registry.check_revocation(cert, trust_roots=[pki.cert("root"), pki.cert("interm")], allow_fetching=False)
    assert (checked.revocation_status, checked.revocation_source) == (RevocationStatus.UNKNOWN, "none")
    assert checked.revocation_checked_at is not None
    # The issuer is unknown (no intermediate kept or given, none fetchable): no path, no answer, no exception.
    SigningCertificate.objects.filter(pk=cert.pk).update(chain_pem="")
    cert.refresh_from_db()
    checked = registry.check_revocation(cert, trust_roots=[pki.cert("root")])
    assert checked.revocation_status == RevocationStatus.UNKNOWN
    assert SigningCertificate.objects.get(pk=cert.pk).revocation_status == RevocationStatus.UNKNOWN


def test_seal_on_softhsm(
    pki: TestPki, softhsm: dict[str, str], agency: Organisation, signer: Person, clerk: Person, org_admin: Person,
    settings: Any,
) -> None:
    args: dict[str, Any] = {"organisation": agency, "holder": None, "lib": softhsm["lib"],
                            "token_label": softhsm["token_label"], "key_label": "seal", "seal": True}
    with pytest.raises(PermissionRefused):
        registry.register_token(**args, pin=softhsm["pin"], actor=signer)
    with pytest.raises(ValidationFailed) as refused:
        registry.register_token(**args, pin="0000", actor=org_admin)
    assert refused.value.problems[0].field == "pin"
    seal = registry.register_token(**args, pin=softhsm["pin"], actor=org_admin, label="ตราประทับ สปน.")
    assert seal.key_location == KeyLocation.SEAL and seal.holder is None
    assert "ตราประทับ" in seal.subject and seal.token_label == softhsm["token_label"]
    assert softhsm["pin"] not in str(SigningCertificate.objects.filter(pk=seal.pk).values().get())
    # The signer may use the seal, the clerk (no SIGNER role) may not.
    assert selectors.usable_certificates(signer, agency) == [seal]
    assert selectors.usable_certificates(clerk, agency) == []
    # The seal's PIN is held server-side.
    settings.SARABAN_SEAL_PINS = {}
    with pytest.raises(KeyUnavailable):
        registry.open_key(seal, "")
    settings.SARABAN_SEAL_PINS = {softhsm["token_label"]: softhsm["pin"]}
    key = registry.open_key(seal, "ignored")
    try:
        assert key.certificate.dump() == bytes(seal.certificate)
    finally:
        key.close()


def test_personal_token(pki: TestPki, softhsm: dict[str, str], agency: Organisation, signer: Person) -> None:
    cert = registry.register_token(organisation=agency, holder=signer, lib=softhsm["lib"],
                                   token_label=softhsm["token_label"], key_label="signer", pin=softhsm["pin"],
                                   actor=signer)
    assert cert.key_location == KeyLocation.TOKEN
    key = registry.open_key(cert, softhsm["pin"])
    key.close()
    with pytest.raises(KeyUnavailable):
        registry.open_key(cert, "0000")


def test_who_can_sign_with_reasons(
    pki: TestPki, agency: Organisation, signer: Person, org_admin: Person
) -> None:
    second = create_person(username="signer2", name_th="นางสาวลงนาม สอง", password=None)
    assign_role(second, agency, "signer")
    third = create_person(username="signer3", name_th="นายลงนาม สาม", password=None)
    assign_role(third, agency, "signer")
    fourth = create_person(username="signer4", name_th="นายลงนาม สี่", password=None)
    assign_role(fourth, agency, "signer")
    good = register(pki, agency, signer)
    revoked = register(pki, agency, second, "signer-revoked")
    revoked.revocation_status = RevocationStatus.REVOKED
    revoked.save()
    withdrawn = register(pki, agency, third)
    registry.withdraw(withdrawn, actor=org_admin)
    rows = {r.person.username: r for r in selectors.who_can_sign(agency)}
    assert set(rows) == {"signer", "signer2", "signer3", "signer4"}
    assert rows["signer"].can_sign_now and rows["signer"].certificate == good
    assert rows["signer"].days_left is not None and rows["signer"].days_left > 365
    assert not rows["signer2"].can_sign_now and rows["signer2"].reason_en == "Certificate revoked"
    assert rows["signer3"].reason_en == "Certificate withdrawn from the registry"
    assert rows["signer4"].reason_th == "ไม่มีใบรับรองสำหรับลงลายมือชื่อ" and rows["signer4"].certificate is None
    # After expiry the same certificate no longer lets anyone sign.
    later = good.not_after + dt.timedelta(days=1)
    after = {r.person.username: r for r in selectors.who_can_sign(agency, at=later)}
    assert not after["signer"].can_sign_now and after["signer"].reason_en == "Certificate expired"
    assert after["signer"].days_left is not None and after["signer"].days_left < 0


def test_readiness_counts(
    pki: TestPki, ministry: Organisation, agency: Organisation, signer: Person, outsider: Person,
    other_org: Organisation,
) -> None:
    empty = create_organisation(identifier="empty", kind="department", name_th="กรมที่ไม่มีใคร", parent=ministry)
    counts = selectors.signing_readiness()
    assert (counts.with_certificate, counts.without_certificate) == (0, 2)  # agency, other_org; not empty/ministry
    register(pki, agency, signer)
    counts = selectors.signing_readiness()
    assert (counts.with_certificate, counts.without_certificate) == (1, 1)
    by_org = {r.organisation_id: r for r in counts.organisations}
    assert by_org[agency.pk].can_sign and by_org[agency.pk].personal == 1
    assert not by_org[other_org.pk].can_sign and empty.pk not in by_org
    assert counts.organisations[0].organisation_id == other_org.pk  # those that cannot sign first
    later = selectors.signing_readiness(at=pki.cert("signer").not_valid_after + dt.timedelta(days=1))
    assert (later.with_certificate, later.without_certificate) == (0, 2)


def test_rollout_reads_the_registry_first(pki: TestPki, agency: Organisation, signer: Person) -> None:
    from saraban.rollout.models import ReportedCertificate
    from saraban.rollout.selectors import signing_certificates

    ReportedCertificate.objects.create(organisation=agency, holder="ผู้แจ้ง", provider="CA",
                                       expires_on=dt.date(2027, 1, 1), reported_on=dt.date(2026, 1, 1),
                                       yearly_cost=1000, budget_source="own")
    assert [c.source for c in signing_certificates(agency)] == ["reported"]
    cert = register(pki, agency, signer)
    rows = signing_certificates(agency)
    assert [c.source for c in rows] == ["registry"]
    assert rows[0].holder == signer.display_name and rows[0].provider == "Saraban Test Intermediate CA"
    assert rows[0].expires_on == cert.not_after.astimezone(BANGKOK).date()


def test_expiry_warnings_once_per_threshold(
    pki: TestPki, agency: Organisation, signer: Person, org_admin: Person
) -> None:
    signer.email = "signer@opm.go.th"
    signer.save()
    cert = register(pki, agency, signer)
    expires = cert.not_after.astimezone(BANGKOK).date()
    assert send_expiry_warnings(today=expires - dt.timedelta(days=91)) == 0
    assert len(mail.outbox) == 0
    for days in (90, 60, 30, 7):
        day = expires - dt.timedelta(days=days)
        assert send_expiry_warnings(today=day) == 2, days  # the holder and the administrator
        assert send_expiry_warnings(today=day) == 0, days  # never twice
        assert send_expiry_warnings(today=day + dt.timedelta(days=1)) == 0, days
    notices = ExpiryNotice.objects.filter(certificate=cert)
    assert sorted({n.threshold_days for n in notices}) == [7, 30, 60, 90]
    assert notices.count() == 8 and all(n.emailed_at for n in notices)
    assert len(mail.outbox) == 8
    first = mail.outbox[0]
    assert first.subject == ("[Saraban] ใบรับรองอิเล็กทรอนิกส์จะหมดอายุใน 90 วัน / "
                             "Signing certificate expires in 90 days")
    assert first.body.index("ใบรับรอง") < first.body.index("Dear")
    assert {m.to[0] for m in mail.outbox} == {"signer@opm.go.th", "admin@opm.go.th"}
    # In-app: unread notices, marked read by their recipient only.
    unread = list(unread_notices(signer))
    assert len(unread) == 4
    with pytest.raises(PermissionRefused):
        mark_read(unread[0], actor=org_admin)
    mark_read(unread[0], actor=signer)
    assert len(unread_notices(signer)) == 3


def test_expiry_warning_skips_to_the_tightest_threshold_and_seals_go_to_admins(
    pki: TestPki, softhsm: dict[str, str], agency: Organisation, signer: Person, org_admin: Person
) -> None:
    seal = registry.register_token(organisation=agency, holder=None, lib=softhsm["lib"],
                                   token_label=softhsm["token_label"], key_label="seal", pin=softhsm["pin"],
                                   actor=org_admin, seal=True)
    expires = seal.not_after.astimezone(BANGKOK).date()
    assert send_expiry_warnings(today=expires - dt.timedelta(days=45)) == 1
    notice = ExpiryNotice.objects.get()
    assert (notice.recipient, notice.threshold_days) == (org_admin, 60)
    assert "45" in mail.outbox[0].subject


def test_thresholds() -> None:
    assert [threshold_for(d) for d in (91, 90, 61, 60, 31, 30, 8, 7, 0, -1)] == [
        None, 90, 90, 60, 60, 30, 30, 7, 7, None
    ]


def test_command_register_list_readiness_and_bad_input(
    pki: TestPki, agency: Organisation, signer: Person, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    from django.core.management import call_command
    from django.core.management.base import CommandError

    monkeypatch.setenv("SARABAN_P12_PASSWORD", PASSWORD)
    call_command("certificates", "register-p12", "--org", agency.identifier, "--user", signer.username,
                 str(pki.path("signer.p12")))
    assert "ลงทะเบียนแล้ว / Registered" in capsys.readouterr().out
    call_command("certificates", "list", "--org", agency.identifier, "--json")
    rows = json.loads(capsys.readouterr().out)
    assert [r["holder"] for r in rows] == ["signer"] and rows[0]["key_usage"] == ["digital_signature",
                                                                                   "non_repudiation"]
    call_command("certificates", "readiness", "--json")
    counts = json.loads(capsys.readouterr().out)
    assert (counts["with_certificate"], counts["without_certificate"]) == (1, 0)
    call_command("certificates", "warn")
    assert "0" in capsys.readouterr().out
    for args, th in [
        (["register-p12", "--org", "nowhere", "--user", "signer", str(pki.path("signer.p12"))], "ไม่พบหน่วยงาน"),
        (["register-p12", "--org", agency.identifier, "--user", "nobody", str(pki.path("signer.p12"))], "ไม่พบผู้ใช้"),
        (["register-p12", "--org", agency.identifier, "--user", "signer", "/nonexistent.p12"], "ไม่พบไฟล์"),
        (["register-p12", "--org", agency.identifier, "--user", "signer", str(pki.path("signer-expired.p12"))],
         "หมดอายุ"),
        (["list", "--org", "nowhere"], "ไม่พบหน่วยงาน"),
    ]:
        with pytest.raises(CommandError) as refused:
            call_command("certificates", *args)
        assert refused.value.returncode == 2 and th in str(refused.value), args
    monkeypatch.setenv("SARABAN_P12_PASSWORD", "wrong")
    with pytest.raises(CommandError) as refused:
        call_command("certificates", "register-p12", "--org", agency.identifier, "--user", "signer",
                     str(pki.path("signer.p12")))
    assert refused.value.returncode == 2 and "Wrong password" in str(refused.value)
    assert "wrong" not in str(refused.value).replace("Wrong", "")


def test_task_runs_the_warnings(pki: TestPki, agency: Organisation, signer: Person) -> None:
    from saraban.signatures.tasks_notices import send_expiry_warnings_task

    register(pki, agency, signer)
    assert send_expiry_warnings_task.call() == 0


def test_command_registers_a_token_key_and_the_seal(
    pki: TestPki, softhsm: dict[str, str], agency: Organisation, signer: Person, org_admin: Person,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    common = ["--org", agency.identifier, "--lib", softhsm["lib"], "--token-label", softhsm["token_label"]]
    monkeypatch.setenv("SARABAN_TOKEN_PIN", softhsm["pin"])
    call_command("certificates", "register-token", *common, "--user", signer.username, "--key-label", "signer",
                 "--chain", str(pki.path("interm.cert.pem")))
    call_command("certificates", "register-token", *common, "--seal", "--key-label", "seal")
    assert capsys.readouterr().out.count("ลงทะเบียนแล้ว / Registered") == 2
    token = SigningCertificate.objects.get(key_location="token")
    assert token.holder == signer and "BEGIN CERTIFICATE" in token.chain_pem
    assert SigningCertificate.objects.get(key_location="seal").holder is None
    monkeypatch.setenv("SARABAN_TOKEN_PIN", "0000")
    with pytest.raises(CommandError) as refused:
        call_command("certificates", "register-token", *common, "--user", signer.username, "--key-label", "signer")
    assert refused.value.returncode == 2 and "PIN" in str(refused.value)
