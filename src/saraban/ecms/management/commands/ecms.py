"""``saraban ecms``: the DGA e-CMS connector, for administrators and support.

- ``parse FILE [--json]``: what Saraban understands from an e-CMS message, a request or a response
  (``-`` reads standard input); ``--json`` prints ``messages.describe``. Exit 2, with one line in Thai
  and English, for a file that cannot be read, XML that is not well-formed, or XML that is not an
  e-CMS message.
- ``connect ORG --endpoint URL --ministry ID --department ID``: an organisation's account on its node;
- ``connections``: every account, its last poll and its last error;
- ``directory refresh [ORG]`` (GetOrganizationList from that organisation's node, or the first's) and
  ``directory list [--unmatched] [-q TEXT]``;
- ``match ECMS_ID ORG`` (``--none`` to undo) and ``add ECMS_ID`` (a new directory organisation);
- ``status``: the outbox by status and the polled items by outcome;
- ``pump [--once]``: post and poll (``saraban serve``'s exchange pump does this already).

Every refusal exits 2 with its reason in Thai and English.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from saraban.core.errors import SarabanError
from saraban.directory.models import Organisation
from saraban.ecms.client import NodeError
from saraban.ecms.messages import MAX_MESSAGE_BYTES, EcmsMessageError, describe, parse_message
from saraban.ecms.models import EcmsInbound, EcmsOrganisation, EcmsOutbound
from saraban.ecms.selectors import connections, search_agencies
from saraban.ecms.services import add_to_directory, connect, match, refresh_directory
from saraban.ecms.summary import summary


class Command(BaseCommand):
    help = "The DGA e-CMS connector: parse messages, connect organisations, match the e-CMS directory, pump."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        parse = sub.add_parser("parse", help="show what Saraban reads in an e-CMS message (request or response)")
        parse.add_argument("file", help="the SOAP message (XML); - reads standard input")
        parse.add_argument("--json", action="store_true", help="print every field as JSON")
        account = sub.add_parser("connect", help="give an organisation its e-CMS account")
        account.add_argument("organisation", help="the organisation's identifier")
        account.add_argument("--endpoint", required=True, help="its ECMS-URL, e.g. http://…/ecms-ws01/service2")
        account.add_argument("--ministry", required=True, help="its e-CMS ministry id")
        account.add_argument("--department", required=True, help="its e-CMS department (organisation) id")
        sub.add_parser("connections", help="every organisation's e-CMS account")
        directory = sub.add_parser("directory", help="the e-CMS directory: refresh or list")
        directory_sub = directory.add_subparsers(dest="directory_action", required=True)
        refresh = directory_sub.add_parser("refresh", help="read GetOrganizationList from a node")
        refresh.add_argument("organisation", nargs="?", help="whose node to ask (default: the first account)")
        listing = directory_sub.add_parser("list", help="agencies of the e-CMS directory")
        listing.add_argument("-q", dest="query", default="", help="part of a name or id")
        listing.add_argument("--unmatched", action="store_true", help="only those not matched yet")
        pairing = sub.add_parser("match", help="say which directory organisation an e-CMS agency is")
        pairing.add_argument("ecms_id")
        pairing.add_argument("organisation", nargs="?", help="the directory organisation's identifier")
        pairing.add_argument("--none", action="store_true", help="undo the match")
        sub.add_parser("add", help="add an e-CMS agency to the directory and match it").add_argument("ecms_id")
        sub.add_parser("status", help="the outbox by status and the polled items by outcome")
        pump = sub.add_parser("pump", help="post and poll until stopped")
        pump.add_argument("--once", action="store_true", help="post what is due and poll every node once, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "parse":
            self._parse(options["file"], as_json=options["json"])
            return
        try:
            getattr(self, f"_{action}")(options)
        except SarabanError as exc:
            raise CommandError(f"{exc.message_th} / {exc.message_en}", returncode=2) from None
        except NodeError as exc:
            raise CommandError(exc.words, returncode=2) from None

    def _organisation(self, identifier: str) -> Organisation:
        organisation = Organisation.objects.filter(identifier=identifier).first()
        if organisation is None:
            raise CommandError(f"ไม่พบหน่วยงาน / no such organisation: {identifier!r}", returncode=2)
        return organisation

    def _agency(self, ecms_id: str) -> EcmsOrganisation:
        agency = EcmsOrganisation.objects.filter(organization_id=ecms_id).first()
        if agency is None:
            raise CommandError(f"ไม่พบหน่วยงานในทะเบียน e-CMS / not in the e-CMS directory: {ecms_id!r} "
                               "(saraban ecms directory refresh)", returncode=2)
        return agency

    def _connect(self, options: dict[str, Any]) -> None:
        connection = connect(self._organisation(options["organisation"]), endpoint=options["endpoint"],
                             ministry_id=options["ministry"], department_id=options["department"], actor=None)
        self.stdout.write(f"เชื่อมต่อแล้ว / connected: {connection.organisation.name_th} → {connection.endpoint} "
                          f"({connection.ministry_id}/{connection.department_id})")

    def _connections(self, options: dict[str, Any]) -> None:
        for c in connections():
            state = "ใช้งาน / active" if c.is_active else "ระงับ / suspended"
            polled = c.last_polled_at.isoformat(timespec="seconds") if c.last_polled_at else "-"
            self.stdout.write(f"{c.organisation.identifier}  {c.department_id}  {c.endpoint}  {state}  "
                              f"polled {polled}" + (f"  ! {c.last_error}" if c.last_error else ""))

    def _directory(self, options: dict[str, Any]) -> None:
        if options["directory_action"] == "refresh":
            name = options.get("organisation")
            rows = connections().filter(organisation__identifier=name) if name else connections()
            connection = rows.first()
            if connection is None:
                raise CommandError("ยังไม่มีบัญชี e-CMS / no e-CMS account (saraban ecms connect)", returncode=2)
            new, updated = refresh_directory(connection)
            self.stdout.write(f"ทะเบียนหน่วยงาน e-CMS: ใหม่ {new} ปรับปรุง {updated} / "
                              f"e-CMS directory: {new} new, {updated} updated")
            return
        for agency in search_agencies(options["query"], unmatched_only=options["unmatched"], limit=500):
            matched = agency.organisation.identifier if agency.organisation else "-"
            self.stdout.write(f"{agency.organization_id}  {agency.th_name}  {agency.en_name}  → {matched}")

    def _match(self, options: dict[str, Any]) -> None:
        agency = self._agency(options["ecms_id"])
        if options["none"]:
            match(agency, None, actor=None)
            self.stdout.write(f"ยกเลิกการจับคู่แล้ว / unmatched: {agency.organization_id}")
            return
        if not options.get("organisation"):
            raise CommandError("ระบุหน่วยงานหรือ --none / give an organisation or --none", returncode=2)
        agency = match(agency, self._organisation(options["organisation"]), actor=None)
        self.stdout.write(f"จับคู่แล้ว / matched: {agency.organization_id} → {options['organisation']}")

    def _add(self, options: dict[str, Any]) -> None:
        organisation = add_to_directory(self._agency(options["ecms_id"]), actor=None)
        self.stdout.write(f"เพิ่มในทะเบียนแล้ว / added: {organisation.identifier} {organisation.name_th}")

    def _status(self, options: dict[str, Any]) -> None:
        outbox = EcmsOutbound.objects.values_list("kind", "status").annotate(n=Count("pk"))
        for kind, status, n in outbox.order_by("kind", "status"):
            self.stdout.write(f"ส่ง / out  {kind:9} {status:10} {n}")
        polled = EcmsInbound.objects.values_list("kind", "outcome").annotate(n=Count("pk"))
        for kind, outcome, n in polled.order_by("kind", "outcome"):
            self.stdout.write(f"รับ / in   {kind:24} {outcome:12} {n}")
        waiting = EcmsInbound.objects.filter(deleted_at__isnull=True).count()
        self.stdout.write(f"ยังไม่ได้ลบจากคิว e-CMS / not yet deleted at the node: {waiting}")

    def _pump(self, options: dict[str, Any]) -> None:
        from saraban.ecms.inbound import poll_due, run_poller
        from saraban.ecms.outbound import post_due, run_sender

        if options["once"]:
            posted, polled = post_due(), poll_due(force=True)
            self.stdout.write(f"ส่ง {posted} ครั้ง รับ {polled} รายการ / {posted} posts, {polled} items polled")
            return
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        threads = [threading.Thread(target=loop, args=(stop,), daemon=True) for loop in (run_sender, run_poller)]
        for thread in threads:
            thread.start()
        try:
            while any(t.is_alive() for t in threads):
                for thread in threads:
                    thread.join(0.5)
        except KeyboardInterrupt:
            stop.set()

    def _parse(self, path: str, *, as_json: bool) -> None:
        try:
            message = parse_message(_read(path))
        except EcmsMessageError as exc:
            raise CommandError(f"{exc.message_th} / {exc.message_en}", returncode=2) from None
        if as_json:
            self.stdout.write(json.dumps(describe(message), ensure_ascii=False, indent=2))
        else:
            for line in summary(message):
                self.stdout.write(line)


def _read(path: str) -> bytes:
    """The bytes of the file (``-``: standard input), at most ``MAX_MESSAGE_BYTES``; CommandError otherwise."""
    try:
        if path == "-":
            data = sys.stdin.buffer.read(MAX_MESSAGE_BYTES + 1)
        else:
            with open(path, "rb") as file:
                data = file.read(MAX_MESSAGE_BYTES + 1)
    except OSError as exc:
        raise CommandError(f"อ่านไฟล์ {path} ไม่ได้ / cannot read {path}: {exc.strerror or exc}", returncode=2) from None
    if len(data) > MAX_MESSAGE_BYTES:
        raise CommandError(f"ไฟล์ {path} ใหญ่เกิน {MAX_MESSAGE_BYTES:,} ไบต์ / {path} is larger than "
                           f"{MAX_MESSAGE_BYTES:,} bytes", returncode=2)
    return data


