"""``saraban exchange``: this deployment's identity, its peers and the outbox, for administrators.

- ``identity``: the deployment id and the fingerprint to give a peer's administrator;
- ``peer add URL [--fingerprint FP]``: read a peer's directory, confirm its fingerprint, pin it;
- ``peer list`` / ``peer refresh [DEPLOYMENT|--all]`` / ``peer suspend|resume DEPLOYMENT``;
- ``queue``: the outbox in numbers;
- ``pump [--once]``: deliver the outbox (``saraban serve`` runs it unless ``--no-worker``).
"""

from __future__ import annotations

import signal
import sys
import threading
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from saraban.core.errors import SarabanError
from saraban.exchange.directory_document import format_fingerprint
from saraban.exchange.identity import deployment_identity
from saraban.exchange.models import MessageStatus, OutgoingMessage, Peer, RemoteOrganisation
from saraban.exchange.peering import add_peer, fetch_directory, refresh_peer, set_peer_active
from saraban.exchange.pump import deliver_due, run_pump


class Command(BaseCommand):
    help = "Exchange with other Saraban deployments: identity, peers, outbox queue and pump."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("identity", help="show this deployment's id and certificate fingerprint")
        peer = sub.add_parser("peer", help="peers: add, list, refresh, suspend, resume")
        peer_sub = peer.add_subparsers(dest="peer_action", required=True)
        add = peer_sub.add_parser("add", help="read a peer's directory and pin its certificate")
        add.add_argument("url", help="the peer's address, e.g. https://saraban.province.go.th")
        add.add_argument("--fingerprint",
                         help="the SHA-256 fingerprint its administrator gave you (skips the question)")
        peer_sub.add_parser("list", help="the peers and their organisations")
        refresh = peer_sub.add_parser("refresh", help="read a pinned peer's directory again")
        refresh.add_argument("deployment", nargs="?", help="its deployment id (or --all)")
        refresh.add_argument("--all", action="store_true")
        for name in ("suspend", "resume"):
            peer_sub.add_parser(name, help=f"{name} exchange with a peer").add_argument("deployment")
        sub.add_parser("queue", help="the outbox in numbers")
        pump = sub.add_parser("pump", help="deliver the outbox until stopped")
        pump.add_argument("--once", action="store_true", help="deliver what is due now, then exit")
        pump.add_argument("--senders", type=int, default=0,
                          help="parallel deliveries (default SARABAN_EXCHANGE_SENDERS)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            action = options["action"]
            if action == "identity":
                self._identity()
            elif action == "peer":
                self._peer(options)
            elif action == "queue":
                self._queue()
            else:
                self._pump(options)
        except SarabanError as exc:
            raise CommandError(f"{exc.message_th} / {exc.message_en}", returncode=2) from None

    def _identity(self) -> None:
        identity = deployment_identity()
        self.stdout.write(f"ระบบ / deployment: {identity.name}")
        self.stdout.write(f"รหัส / id: {identity.deployment_id}")
        self.stdout.write(f"ที่อยู่ / endpoint: {settings.SARABAN_PUBLIC_URL}")
        self.stdout.write(f"ลายนิ้วมือ SHA-256 / fingerprint: {format_fingerprint(identity.fingerprint)}")

    def _peer_named(self, deployment: str | None) -> Peer:
        peer = Peer.objects.filter(deployment_id=deployment or "").first()
        if peer is None:
            raise CommandError(f"ไม่พบระบบปลายทาง / no such peer: {deployment!r}", returncode=2)
        return peer

    def _peer(self, options: dict[str, Any]) -> None:
        action = options["peer_action"]
        if action == "add":
            self._add(options["url"], options.get("fingerprint"))
        elif action == "list":
            counts = dict(RemoteOrganisation.objects.values("peer").annotate(n=Count("pk")).values_list("peer", "n"))
            for peer in Peer.objects.order_by("name"):
                state = "ใช้งาน / active" if peer.is_active else "ระงับ / suspended"
                self.stdout.write(f"{peer.deployment_id}  {peer.name}  {peer.endpoint}  {state}  "
                                  f"{counts.get(peer.pk, 0)} หน่วยงาน / organisations")
        elif action == "refresh":
            peers = list(Peer.objects.all()) if options["all"] else [self._peer_named(options["deployment"])]
            for peer in peers:
                peer = refresh_peer(peer)
                self.stdout.write(f"{peer.name}: ปรับปรุงแล้ว / refreshed")
        else:
            peer = set_peer_active(self._peer_named(options["deployment"]), action == "resume")
            self.stdout.write(f"{peer.name}: {'ใช้งาน / active' if peer.is_active else 'ระงับ / suspended'}")

    def _add(self, url: str, fingerprint: str | None) -> None:
        directory = fetch_directory(url)
        self.stdout.write(f"ระบบ / deployment: {directory.name} ({directory.deployment_id})")
        self.stdout.write(f"ที่อยู่ / endpoint: {directory.endpoint}")
        self.stdout.write(f"หน่วยงาน / organisations: {len(directory.organisations)}")
        self.stdout.write(f"ลายนิ้วมือ SHA-256 / fingerprint: {format_fingerprint(directory.fingerprint)}")
        if fingerprint is None:
            if not sys.stdin.isatty():
                raise CommandError(
                    "ให้ยืนยันลายนิ้วมือด้วย --fingerprint (ขอจากผู้ดูแลระบบปลายทาง) / confirm the fingerprint with "
                    "--fingerprint (ask the peer's administrator)", returncode=2)
            reply = input("ตรงกับที่ผู้ดูแลระบบปลายทางแจ้งหรือไม่ พิมพ์ yes เพื่อยืนยัน / "
                          "Does it match what the peer's administrator gave you? Type yes: ")
            if reply.strip().lower() != "yes":
                raise CommandError("ยกเลิก ไม่ได้บันทึก / cancelled, nothing pinned", returncode=1)
            fingerprint = directory.fingerprint
        peer = add_peer(directory, confirmed_fingerprint=fingerprint)
        self.stdout.write(f"บันทึกแล้ว / pinned: {peer.name}")

    def _queue(self) -> None:
        counts = dict(OutgoingMessage.objects.values("status").annotate(n=Count("pk")).values_list("status", "n"))
        for status in MessageStatus:
            self.stdout.write(f"{status.value}: {counts.get(status.value, 0)}")

    def _pump(self, options: dict[str, Any]) -> None:
        if options["once"]:
            self.stdout.write(f"attempts: {deliver_due()}")
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        senders = options["senders"] or settings.SARABAN_EXCHANGE["senders"]
        self.stdout.write(f"exchange pump: {senders} senders")
        self.stdout.flush()
        run_pump(stop, senders=senders)
