"""Peers: reading another deployment's directory, pinning its certificate, keeping its organisations.

``saraban exchange peer add URL`` reads the peer's signed directory (``GET {URL}/exchange/directory``),
shows its fingerprint for the administrator to confirm out of band, and pins it (trust on first
use). From then on only that certificate is accepted from the peer, for its messages and for its
later directories (``refresh_peer``). Its organisations become remote organisations of this
directory: recipients in the picker, marked, whose letters go to the peer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from saraban.access.policy import top_secret_may_go_electronically
from saraban.audit.services import record_event
from saraban.core.errors import SarabanError
from saraban.core.thai import arabic_digits
from saraban.directory.models import Organisation, OrganisationKind, Person
from saraban.directory.services import create_organisation
from saraban.regulation.content import LETTER_CODE_RE

from .batch import MAX_BATCH_MESSAGES
from .client import DIRECTORY_PATH, PeerUnreachable, endpoint_problem, exchange_request
from .directory_document import (
    DEFAULT_MAX_BYTES,
    Directory,
    DirectoryOrganisation,
    directory_document,
    format_fingerprint,
    read_directory_document,
)
from .envelope import normal_fingerprint
from .identity import deployment_identity
from .models import Peer, RemoteOrganisation
from .refusals import EnvelopeRefused


class PeerProblem(SarabanError):
    """A peer cannot be added or refreshed: unreachable, a bad directory, a fingerprint that differs."""

    http_status = 400

    def __init__(self, code: str, message_th: str, message_en: str) -> None:
        super().__init__(code=code, message_th=message_th, message_en=message_en)


def published_organisations() -> list[dict[str, str]]:
    """The organisations this deployment hosts, as its directory lists them (not internal units)."""
    rows = Organisation.objects.filter(is_active=True, home_deployment="").exclude(
        kind=OrganisationKind.DIVISION).select_related("province").order_by("identifier")
    return [
        {"identifier": o.identifier, "name_th": o.name_th, "name_en": o.name_en, "letter_code": o.letter_code,
         "kind": o.kind, "province": o.province.name_th if o.province else ""}
        for o in rows
    ]


def our_directory_document() -> bytes:
    """This deployment's signed directory document (``GET /exchange/directory``)."""
    return directory_document(
        deployment_identity(), settings.SARABAN_PUBLIC_URL, published_organisations(),
        accepts_top_secret=top_secret_may_go_electronically(),
        max_message_bytes=settings.SARABAN_EXCHANGE["max_message_bytes"], max_batch_messages=MAX_BATCH_MESSAGES,
    )


def fetch_directory(endpoint: str, *, expected_fingerprint: str | None = None) -> Directory:
    """Read and check the directory document a deployment publishes at ``endpoint``."""
    endpoint = endpoint.strip().rstrip("/")
    if problem := endpoint_problem(endpoint):
        raise PeerProblem("exchange.bad_endpoint", f"ที่อยู่ของระบบปลายทางไม่ถูกต้อง: {problem}",
                          f"The peer's address is not usable: {problem}")
    try:
        answer = exchange_request(endpoint, "GET", DIRECTORY_PATH, max_answer_bytes=DEFAULT_MAX_BYTES)
    except PeerUnreachable as exc:
        raise PeerProblem("exchange.peer_unreachable", f"ติดต่อระบบปลายทางไม่ได้: {exc}",
                          f"The peer cannot be reached: {exc}") from None
    if answer.status != 200:
        raise PeerProblem("exchange.peer_unreachable", f"ระบบปลายทางตอบ HTTP {answer.status}",
                          f"The peer answered HTTP {answer.status} for its directory")
    try:
        return read_directory_document(answer.body, expected_fingerprint=expected_fingerprint)
    except EnvelopeRefused as exc:
        raise PeerProblem(exc.code, exc.message_th, exc.message_en) from None


def add_peer(directory: Directory, *, confirmed_fingerprint: str, actor: Person | None = None) -> Peer:
    """Pin the peer that published ``directory``, once its administrator confirmed the fingerprint."""
    if normal_fingerprint(confirmed_fingerprint) != directory.fingerprint:
        raise PeerProblem(
            "exchange.fingerprint_mismatch",
            f"ลายนิ้วมือใบรับรองไม่ตรงกับที่ยืนยัน: ระบบปลายทางแสดง {format_fingerprint(directory.fingerprint)}",
            f"The certificate's fingerprint is not the one confirmed: the peer shows "
            f"{format_fingerprint(directory.fingerprint)}",
        )
    if directory.deployment_id == deployment_identity().deployment_id:
        raise PeerProblem("exchange.peer_is_self", "ที่อยู่นี้คือระบบนี้เอง", "That address is this deployment itself")
    with transaction.atomic():
        existing = Peer.objects.select_for_update().filter(deployment_id=directory.deployment_id).first()
        if existing is not None and existing.fingerprint != directory.fingerprint:
            raise PeerProblem(
                "exchange.fingerprint_changed",
                "ระบบปลายทางนี้เปลี่ยนใบรับรองจากที่บันทึกไว้ ให้ตรวจสอบกับผู้ดูแลระบบปลายทางก่อน",
                "This peer now shows another certificate than the one pinned: check with its administrator",
            )
        now = timezone.now()
        peer = existing or Peer(deployment_id=directory.deployment_id, added_at=now)
        peer.name, peer.endpoint, peer.fingerprint = directory.name, directory.endpoint, directory.fingerprint
        peer.certificate_der = directory.certificate.dump()
        peer.accepts_top_secret, peer.max_message_bytes = directory.accepts_top_secret, directory.max_message_bytes
        peer.max_batch_messages = min(directory.max_batch_messages, 32767)
        peer.refreshed_at, peer.is_active = now, True
        peer.save()
        sync_organisations(peer, directory.organisations)
        record_event("exchange.peer_pinned" if existing is None else "exchange.peer_refreshed",
                     object_type="exchange_peer", object_id=peer.pk, organisation_id=None, actor=actor,
                     after={"deployment": peer.deployment_id, "name": peer.name, "endpoint": peer.endpoint,
                            "fingerprint": peer.fingerprint, "organisations": len(directory.organisations)})
    return peer


def refresh_peer(peer: Peer, *, actor: Person | None = None) -> Peer:
    """Read a pinned peer's directory again (only its pinned certificate is accepted) and apply it."""
    directory = fetch_directory(peer.endpoint, expected_fingerprint=peer.fingerprint)
    if directory.deployment_id != peer.deployment_id:
        raise PeerProblem("exchange.sender_mismatch", "ระบบที่ตอบไม่ใช่ระบบที่บันทึกไว้",
                          "Another deployment answered at this peer's address")
    return add_peer(directory, confirmed_fingerprint=peer.fingerprint, actor=actor)


def set_peer_active(peer: Peer, active: bool, *, actor: Person | None = None) -> Peer:
    """Suspend (or resume) exchange with a peer: nothing is sent to it or accepted from it meanwhile."""
    Peer.objects.filter(pk=peer.pk).update(is_active=active)
    record_event("exchange.peer_resumed" if active else "exchange.peer_suspended", object_type="exchange_peer",
                 object_id=peer.pk, organisation_id=None, actor=actor, after={"is_active": active})
    peer.refresh_from_db()
    return peer


def _local_identifier(peer: Peer, remote_identifier: str) -> str:
    digest = hashlib.sha256(f"{peer.deployment_id}/{remote_identifier}".encode()).hexdigest()[:8]
    return f"x-{slugify(remote_identifier)[:44] or 'org'}-{digest}"


def remember_remote_organisation(
    peer: Peer, remote_identifier: str, *, name_th: str, name_en: str = "", letter_code: str = "", kind: str = "",
) -> Organisation:
    """The organisation ``remote_identifier`` of ``peer`` in this directory, made or updated."""
    known = RemoteOrganisation.objects.select_related("organisation").filter(
        peer=peer, remote_identifier=remote_identifier).first()
    kind = kind if kind in OrganisationKind.values else OrganisationKind.STATE_BODY
    letter_code = arabic_digits(letter_code.strip())
    if letter_code and not LETTER_CODE_RE.match(letter_code):
        letter_code = ""  # the peer's own business; not a reason to drop the organisation
    if known is not None:
        organisation = known.organisation
        changed = {name: value for name, value in (("name_th", name_th), ("name_en", name_en),
                                                     ("letter_code", letter_code), ("kind", kind))
                   if value and getattr(organisation, name) != value}
        if changed or not organisation.is_active:
            Organisation.objects.filter(pk=organisation.pk).update(is_active=True, **changed)
            organisation.refresh_from_db()
        return organisation
    organisation = create_organisation(
        identifier=_local_identifier(peer, remote_identifier), kind=kind, name_th=(name_th or remote_identifier)[:255],
        name_en=name_en[:255], letter_code=letter_code[:32], home_deployment=peer.deployment_id,
    )
    RemoteOrganisation.objects.create(peer=peer, organisation=organisation, remote_identifier=remote_identifier)
    return organisation


def sync_organisations(peer: Peer, listed: Sequence[DirectoryOrganisation]) -> None:
    """Make the peer's remote organisations what its directory lists; unlisted ones become inactive."""
    seen = set()
    for entry in listed:
        organisation = remember_remote_organisation(peer, entry.identifier, name_th=entry.name_th,
                                                    name_en=entry.name_en, letter_code=entry.letter_code,
                                                    kind=entry.kind)
        seen.add(organisation.pk)
    gone = RemoteOrganisation.objects.filter(peer=peer).exclude(organisation_id__in=seen).values("organisation_id")
    Organisation.objects.filter(pk__in=gone).update(is_active=False)
