"""``saraban certificates``: the certificate registry from the command line.

    saraban certificates list [--org IDENTIFIER] [--json]
    saraban certificates register-p12 --org IDENTIFIER --user USERNAME FILE.p12
    saraban certificates check-revocation [--org IDENTIFIER]
    saraban certificates warn
    saraban certificates readiness [--json]

``register-p12`` registers the file for the user as if the user did it (the operator of the server
is trusted); the password comes from ``SARABAN_P12_PASSWORD`` or a prompt, never an argument.
Bad input exits 2 with a Thai and English message.
"""

from __future__ import annotations

import getpass
import json
import os
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from saraban.core.errors import SarabanError
from saraban.core.files import read_input, refuse
from saraban.core.thai import local_date
from saraban.directory.models import Organisation, Person, Role
from saraban.signatures import registry, selectors
from saraban.signatures.models import SigningCertificate
from saraban.signatures.notices import send_expiry_warnings

PASSWORD_ENV = "SARABAN_P12_PASSWORD"


def _organisation(identifier: str) -> Organisation:
    org = Organisation.objects.filter(identifier=identifier).first()
    if org is None:
        raise refuse(f"ไม่พบหน่วยงาน “{identifier}”", f"No organisation “{identifier}”")
    return org


def _an_admin_of(org: Organisation) -> Person:
    """An administrator of ``org`` (a seal is registered in an administrator's name)."""
    admin = Person.objects.filter(roles__organisation=org, roles__role=Role.ORG_ADMIN).first()
    if admin is None:
        raise refuse(f"{org.name_th} ยังไม่มีผู้ดูแลหน่วยงาน จึงลงทะเบียนตราประทับไม่ได้",
                     f"{org.identifier} has no administrator to register its seal")
    return admin


def _row(cert: SigningCertificate) -> dict[str, Any]:
    return {
        "id": cert.pk,
        "organisation": cert.organisation.identifier,
        "holder": cert.holder.username if cert.holder else None,
        "key_location": cert.key_location,
        "label": cert.label,
        "subject": cert.subject,
        "issuer": cert.issuer,
        "serial": cert.serial,
        "not_before": cert.not_before.isoformat(),
        "not_after": cert.not_after.isoformat(),
        "key_usage": cert.key_usage.split(",") if cert.key_usage else [],
        "fingerprint_sha256": cert.fingerprint_sha256,
        "active": cert.active,
        "revocation_status": cert.revocation_status,
        "revocation_checked_at": cert.revocation_checked_at.isoformat() if cert.revocation_checked_at else None,
        "revocation_source": cert.revocation_source,
    }


class Command(BaseCommand):
    """List, register and check signing certificates; send expiry warnings; print roll-out counts."""

    help = "The certificate registry: list, register-p12, check-revocation, warn, readiness"

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="list registered certificates")
        listing.add_argument("--org", help="only this organisation (its identifier)")
        listing.add_argument("--json", action="store_true", help="print JSON")
        reg = sub.add_parser("register-p12", help="register a PKCS#12 file for a user")
        reg.add_argument("--org", required=True, help="the organisation's identifier")
        reg.add_argument("--user", required=True, help="the holder's username")
        reg.add_argument("--label", default="", help="a name for the certificate")
        reg.add_argument("file", type=Path, help="the PKCS#12 file (.p12/.pfx)")
        token = sub.add_parser("register-token", help="register a key on a PKCS#11 token (a user's, or --seal)")
        token.add_argument("--org", required=True, help="the organisation's identifier")
        token.add_argument("--user", help="the holder's username (not with --seal)")
        token.add_argument("--seal", action="store_true", help="the organisation's seal (held server-side)")
        token.add_argument("--lib", required=True, help="the PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so")
        token.add_argument("--token-label", required=True)
        token.add_argument("--key-label", required=True)
        token.add_argument("--chain", type=Path, help="PEM file of the issuing CA certificates")
        token.add_argument("--label", default="", help="a name for the certificate")
        check = sub.add_parser("check-revocation", help="ask OCSP/CRL about active certificates")
        check.add_argument("--org", help="only this organisation (its identifier)")
        sub.add_parser("warn", help="write and e-mail today's expiry warnings")
        ready = sub.add_parser("readiness", help="organisations with and without a usable certificate")
        ready.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "list":
                self._list(options)
            elif action == "register-p12":
                self._register(options)
            elif action == "register-token":
                self._register_token(options)
            elif action == "check-revocation":
                self._check(options)
            elif action == "warn":
                count = send_expiry_warnings()
                self.stdout.write(f"แจ้งเตือนแล้ว {count} รายการ / {count} notices written")
            elif action == "readiness":
                self._readiness(options)
        except SarabanError as exc:
            raise refuse(exc.message_th, exc.message_en, [str(p) for p in exc.problems]) from None

    def _list(self, options: dict[str, Any]) -> None:
        certs = SigningCertificate.objects.select_related("organisation", "holder").order_by(
            "organisation__identifier", "not_after", "pk"
        )
        if options.get("org"):
            certs = certs.filter(organisation=_organisation(options["org"]))
        rows = [_row(c) for c in certs]
        if options["json"]:
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        for r in rows:
            state = "" if r["active"] else " (ถอนแล้ว / withdrawn)"
            self.stdout.write(
                f"{r['id']:>5} {r['organisation']} {r['holder'] or '-'} {r['key_location']} "
                f"{r['serial']} {r['not_after'][:10]} {r['revocation_status']}{state}\n      {r['subject']}"
            )
        self.stdout.write(f"{len(rows)} ใบ / certificates")

    def _register(self, options: dict[str, Any]) -> None:
        org = _organisation(options["org"])
        holder = Person.objects.filter(username=options["user"]).first()
        if holder is None:
            raise refuse(f"ไม่พบผู้ใช้ “{options['user']}”", f"No user “{options['user']}”")
        data = read_input(options["file"])
        password = os.environ.get(PASSWORD_ENV)
        if password is None:
            password = getpass.getpass("รหัสผ่านไฟล์ใบรับรอง / PKCS#12 password: ")
        cert = registry.register_pkcs12(organisation=org, holder=holder, data=data, password=password,
                                        actor=holder, label=options["label"])
        self.stdout.write(
            f"ลงทะเบียนแล้ว / Registered: {cert.pk} {cert.subject} "
            f"(หมดอายุ / expires {local_date(cert.not_after):%Y-%m-%d})"
        )

    def _register_token(self, options: dict[str, Any]) -> None:
        """The operator registers a token key; the PIN comes from SARABAN_TOKEN_PIN or a prompt."""
        org = _organisation(options["org"])
        holder = None
        if not options["seal"]:
            holder = Person.objects.filter(username=options.get("user") or "").first()
            if holder is None:
                raise refuse("ระบุผู้ถือใบรับรองด้วย --user ที่มีอยู่ หรือใช้ --seal",
                             "Give an existing holder with --user, or --seal")
        actor = holder or _an_admin_of(org)
        chain = read_input(options["chain"]).decode("ascii", "replace") if options.get("chain") else ""
        pin = os.environ.get("SARABAN_TOKEN_PIN")
        if pin is None:
            pin = getpass.getpass("PIN ของโทเคน / token PIN: ")
        cert = registry.register_token(
            organisation=org, holder=holder, lib=options["lib"], token_label=options["token_label"],
            key_label=options["key_label"], pin=pin, actor=actor, seal=options["seal"], label=options["label"],
            chain_pem=chain,
        )
        self.stdout.write(f"ลงทะเบียนแล้ว / Registered: {cert.pk} {cert.subject} ({cert.get_key_location_display()})")

    def _check(self, options: dict[str, Any]) -> None:
        certs = SigningCertificate.objects.filter(active=True).order_by("pk")
        if options.get("org"):
            certs = certs.filter(organisation=_organisation(options["org"]))
        for cert in certs:
            checked = registry.check_revocation(cert)
            self.stdout.write(f"{checked.pk} {checked.serial} {checked.revocation_status} "
                              f"({checked.revocation_source or '-'})")

    def _readiness(self, options: dict[str, Any]) -> None:
        counts = selectors.signing_readiness()
        if options["json"]:
            data = {
                "at": counts.at.isoformat(),
                "with_certificate": counts.with_certificate,
                "without_certificate": counts.without_certificate,
                "organisations": [
                    {"id": r.organisation_id, "name_th": r.name_th, "personal": r.personal, "seals": r.seals,
                     "can_sign": r.can_sign}
                    for r in counts.organisations
                ],
            }
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
            return
        self.stdout.write(f"มีใบรับรองที่ใช้ลงนามได้ / with a usable certificate: {counts.with_certificate}")
        self.stdout.write(f"ไม่มีใบรับรองที่ใช้ลงนามได้ / without: {counts.without_certificate}")
