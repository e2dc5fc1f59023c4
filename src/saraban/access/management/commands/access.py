"""``saraban access``: secrecy grants and the deployment policy, for system administrators."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from saraban.access.services import grant_secrecy, revoke_secrecy, set_top_secret_electronic
from saraban.core.errors import SarabanError
from saraban.directory.models import Organisation, Person


class Command(BaseCommand):
    help = "Grant or revoke secrecy clearance; allow or forbid sending top-secret letters electronically."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        grant = sub.add_parser("grant", help="grant a secrecy level in an organisation")
        grant.add_argument("--user", required=True)
        grant.add_argument("--organisation", required=True, help="the organisation's identifier")
        grant.add_argument("--level", required=True, choices=["confidential", "secret", "top_secret"])
        revoke = sub.add_parser("revoke", help="withdraw a secrecy grant")
        revoke.add_argument("--user", required=True)
        revoke.add_argument("--organisation", required=True)
        policy = sub.add_parser("policy", help="deployment switches")
        policy.add_argument("--allow-top-secret-electronic", required=True, choices=["yes", "no"])

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "policy":
                allowed = options["allow_top_secret_electronic"] == "yes"
                set_top_secret_electronic(allowed, actor=None)
                self.stdout.write(f"allow_top_secret_electronic = {allowed}")
                return
            person = Person.objects.filter(username=options["user"]).first()
            org = Organisation.objects.filter(identifier=options["organisation"]).first()
            if person is None or org is None:
                raise CommandError(
                    "ไม่พบผู้ใช้หรือหน่วยงาน / unknown user or organisation", returncode=2
                )
            if options["action"] == "grant":
                grant_secrecy(person, org, options["level"], actor=None)
                self.stdout.write(f"{person.username}: {options['level']} @ {org.identifier}")
            elif not revoke_secrecy(person, org, actor=None):
                self.stdout.write("ไม่มีสิทธิ์ให้เพิกถอน / no grant to revoke")
        except SarabanError as exc:
            raise CommandError(str(exc), returncode=2) from None
