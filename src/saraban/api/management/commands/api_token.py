"""``saraban api_token create --user USERNAME --name NAME``: a token for a machine client, printed once.

Also ``saraban api_token list --user USERNAME`` and ``saraban api_token revoke --id ID``.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from saraban.api.auth import issue_token, revoke_token
from saraban.api.models import ApiToken
from saraban.audit.signals import tokens_issued_by_command
from saraban.core.errors import SarabanError
from saraban.directory.models import Person


class Command(BaseCommand):
    """Create, list and revoke API tokens."""

    help = "API tokens: create --user USERNAME --name NAME | list --user USERNAME | revoke --id ID"

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        create = actions.add_parser("create", help="สร้างโทเคน (แสดงครั้งเดียว) / create a token (shown once)")
        create.add_argument("--user", required=True, help="the owner's username")
        create.add_argument("--name", required=True, help="what the token is for")
        listing = actions.add_parser("list", help="โทเคนของผู้ใช้ / a user's tokens")
        listing.add_argument("--user", required=True)
        revoke = actions.add_parser("revoke", help="เพิกถอนโทเคน / revoke a token")
        revoke.add_argument("--id", type=int, required=True)

    def _person(self, username: str) -> Person:
        person = Person.objects.filter(username=username).first()
        if person is None:
            raise CommandError(f"ไม่พบผู้ใช้ “{username}” / No user “{username}”", returncode=2)
        return person

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            try:
                # Audited as api_token.created (owner, name, this OS user; never the token).
                with tokens_issued_by_command("saraban api_token create"):
                    _row, token = issue_token(self._person(options["user"]), options["name"])
            except SarabanError as exc:
                raise CommandError(str(exc), returncode=2) from None
            self.stdout.write(token)
            self.stderr.write("เก็บโทเคนนี้ไว้ ระบบจะไม่แสดงอีก / Keep this token: it is not shown again")
        elif action == "list":
            for row in ApiToken.objects.filter(owner=self._person(options["user"])):
                state = "revoked" if row.revoked_at else "active"
                used = row.last_used_at.isoformat() if row.last_used_at else "-"
                self.stdout.write(f"{row.pk}\t{row.prefix}…\t{state}\t{used}\t{row.name}")
        else:
            found = ApiToken.objects.filter(pk=options["id"]).first()
            if found is None:
                raise CommandError(f"ไม่พบโทเคน {options['id']} / No token {options['id']}", returncode=2)
            revoke_token(found)
            self.stdout.write(f"revoked {found.pk}")
