"""``saraban mail``: the central e-mail channel, for administrators.

- ``account ORG --address A --smtp-host H [...]``: set an organisation's central mailbox; passwords are
  read from the environment variables named by ``--smtp-password-env`` / ``--imap-password-env`` (or
  asked on a terminal), never from the command line, and are kept sealed;
- ``accounts``: every account, its last read and its last error;
- ``status``: the outbox by status and what was read, by outcome;
- ``pump [--once]``: send and read (``saraban serve``'s exchange pump does this already).
"""

from __future__ import annotations

import getpass
import os
import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from saraban.core.errors import SarabanError
from saraban.directory.models import Organisation
from saraban.mail.models import MailAccount, MailInbound, MailOutbound, Security
from saraban.mail.services import MailSettings, configure


class Command(BaseCommand):
    help = "The central e-mail channel: accounts, status, pump."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        account = sub.add_parser("account", help="set an organisation's central mailbox")
        account.add_argument("organisation")
        account.add_argument("--address", required=True)
        account.add_argument("--smtp-host", required=True)
        account.add_argument("--smtp-port", type=int, default=587)
        account.add_argument("--smtp-security", choices=Security.values, default=Security.STARTTLS)
        account.add_argument("--smtp-user", default="")
        account.add_argument("--smtp-password-env", default="", help="the variable holding the SMTP password")
        account.add_argument("--imap-host", default="")
        account.add_argument("--imap-port", type=int, default=993)
        account.add_argument("--imap-security", choices=Security.values, default=Security.SSL)
        account.add_argument("--imap-user", default="")
        account.add_argument("--imap-password-env", default="", help="the variable holding the IMAP password")
        account.add_argument("--imap-folder", default="INBOX")
        account.add_argument("--dkim-domain", default="")
        account.add_argument("--dkim-selector", default="")
        account.add_argument("--dkim-key", default="", help="a PEM file with the DKIM private key")
        sub.add_parser("accounts", help="every organisation's central mailbox")
        sub.add_parser("status", help="the outbox by status and what was read, by outcome")
        pump = sub.add_parser("pump", help="send and read until stopped")
        pump.add_argument("--once", action="store_true", help="send what is due and read every mailbox once")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action']}")(options)
        except SarabanError as exc:
            raise CommandError(f"{exc.message_th} / {exc.message_en}", returncode=2) from None

    @staticmethod
    def _secret(variable: str, user: str, what: str) -> str | None:
        if variable:
            if variable not in os.environ:
                raise CommandError(f"ไม่มีตัวแปร {variable} / {variable} is not set", returncode=2)
            return os.environ[variable]
        if user and sys.stdin.isatty():
            return getpass.getpass(f"รหัสผ่าน {what} / {what} password: ")
        return None

    def _account(self, options: dict[str, Any]) -> None:
        organisation = Organisation.objects.filter(identifier=options["organisation"]).first()
        if organisation is None:
            raise CommandError(f"ไม่พบหน่วยงาน / no such organisation: {options['organisation']!r}", returncode=2)
        key = None
        if options["dkim_key"]:
            try:
                with open(options["dkim_key"], encoding="ascii") as file:
                    key = file.read()
            except (OSError, UnicodeDecodeError) as exc:
                raise CommandError(f"อ่านกุญแจ DKIM ไม่ได้ / cannot read the DKIM key: {exc}", returncode=2) from None
        account = configure(organisation, MailSettings(
            address=options["address"], smtp_host=options["smtp_host"], smtp_port=options["smtp_port"],
            smtp_security=options["smtp_security"], smtp_username=options["smtp_user"],
            smtp_password=self._secret(options["smtp_password_env"], options["smtp_user"], "SMTP"),
            imap_host=options["imap_host"], imap_port=options["imap_port"], imap_security=options["imap_security"],
            imap_username=options["imap_user"],
            imap_password=self._secret(options["imap_password_env"], options["imap_user"], "IMAP"),
            imap_folder=options["imap_folder"], dkim_domain=options["dkim_domain"],
            dkim_selector=options["dkim_selector"], dkim_private_key_pem=key,
        ), actor=None)
        self.stdout.write(f"ตั้งค่าแล้ว / configured: {organisation.name_th} <{account.address}>")

    def _accounts(self, options: dict[str, Any]) -> None:
        for a in MailAccount.objects.select_related("organisation").order_by("organisation__name_th"):
            read = a.last_polled_at.isoformat(timespec="seconds") if a.last_polled_at else "-"
            trouble = f"  ! {a.last_error}" if a.last_error else ""
            self.stdout.write(f"{a.organisation.identifier}  {a.address}  smtp {a.smtp_host}:{a.smtp_port}  "
                              f"imap {a.imap_host or '-'}  read {read}{trouble}")

    def _status(self, options: dict[str, Any]) -> None:
        for status, n in MailOutbound.objects.values_list("status").annotate(n=Count("pk")).order_by("status"):
            self.stdout.write(f"ส่ง / out  {status:10} {n}")
        for outcome, n in MailInbound.objects.values_list("outcome").annotate(n=Count("pk")).order_by("outcome"):
            self.stdout.write(f"รับ / in   {outcome:10} {n}")

    def _pump(self, options: dict[str, Any]) -> None:
        from saraban.mail.receiving import poll_due
        from saraban.mail.sending import send_due

        if not options["once"]:
            raise CommandError("ใช้ saraban exchange pump (ส่งและรับทุกช่องทาง) / use saraban exchange pump, "
                               "which runs every channel; or --once", returncode=2)
        sent, read = send_due(), poll_due(force=True)
        self.stdout.write(f"ส่ง {sent} ครั้ง อ่าน {read} ข้อความ / {sent} sends, {read} messages read")
