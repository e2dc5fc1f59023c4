"""The outbox: signed messages for peers, written with what they carry and delivered until answered.

``queue_letter`` and ``queue_receipt`` run inside the caller's transaction (the send, the
registration), so the message exists exactly when the change it reports does. ``deliver_next``
(the pump's step, ``pump.py``) leases one due message, posts it, and reads the peer's signed answer:

- a receipt ``delivered`` for this message id: done (a letter's dispatch becomes ส่งถึงแล้ว);
- a signed rejection: refused, with the peer's reason (a letter's dispatch becomes ส่งไม่สำเร็จ),
  except the refusals an administrator can put right (the peer has not pinned us yet), retried;
- anything else (no answer, a proxy's 502, an unsigned page): tried again after
  min(5 s · 2^(attempts−1), 1 h), and given up after ``SARABAN_EXCHANGE_RETRY_DAYS``.

A lease expires, so a pump killed mid-delivery leaves the message to the next one; the peer
answers the second delivery of a message id as it answered the first.

The pump leases due messages together (``claim_due``), groups them per peer (``batches_of``) and
posts each group in one request when the peer takes batches (``deliver_batch``, ``batch.py``):
each message keeps its own answer and outcome, and the outcomes of a batch are kept in one
transaction (``record_outcomes``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from saraban.core.errors import FieldProblem, ValidationFailed
from saraban.core.thai import format_thai_date
from saraban.documents.models import StoredFile
from saraban.documents.services import read_file, store_file

from .asic import MIMETYPE, Part, enclosure_part_name
from .batch import BATCHES_PATH, MAX_BATCH_MESSAGES, BatchPart, decode_batch, encode_batch
from .client import MAX_ANSWER_BYTES, MESSAGE_ID_HEADER, MESSAGES_PATH, PeerUnreachable, exchange_request
from .delivery import OutgoingLetter
from .dispatches import dispatch_failed, dispatch_reached
from .envelope import Address, Envelope, open_envelope, pack
from .identity import deployment_identity
from .kinds import PDF
from .models import Dispatch, MessageStatus, OutgoingMessage, Peer, ReceivedMessage, RemoteOrganisation
from .refusals import EnvelopeRefused
from .replies import receipt

MAIN_PART = "letter.pdf"
MAX_BACKOFF_S = 3600
# Rejections an administrator can put right on either side: keep trying until the window closes.
RETRYABLE_REFUSALS = frozenset({"exchange.unknown_signer", "exchange.sender_mismatch"})
# Refusals of a body the peer did not read: a rejection naming no message (another vendor may not read
# the Saraban-Message-Id header) still answers the message just posted.
REFUSED_UNREAD = frozenset({"exchange.too_large", "exchange.unsupported_media_type", "exchange.not_zip"})


def _lease_seconds() -> int:
    # Longer than one attempt can take (the HTTP timeout), so that no two pumps post it at once;
    # short, so that a pump killed mid-attempt leaves its message to another soon.
    return int(settings.SARABAN_EXCHANGE["timeout_s"]) + 10


def _give_up_at(now: dt.datetime) -> dt.datetime:
    return now + dt.timedelta(days=int(settings.SARABAN_EXCHANGE["retry_days"]))


def remote_of(organisation_id: int) -> RemoteOrganisation:
    """The peer and address of a remote organisation (``RemoteOrganisation.DoesNotExist`` if not remote)."""
    return RemoteOrganisation.objects.select_related("peer").get(organisation_id=organisation_id)


def _enqueue(message_id: uuid.UUID, peer: Peer, kind: str, organisation_id: int, data: bytes,
             **fields: object) -> OutgoingMessage:
    now = timezone.now()
    container = store_file(data, MIMETYPE, max_bytes=max(len(data), 1))
    return OutgoingMessage.objects.create(
        message_id=message_id, peer=peer, kind=kind, organisation_id=organisation_id, container=container,
        size=len(data), created_at=now, next_attempt_at=now, give_up_at=_give_up_at(now), **fields,
    )


def _letter_parts(outgoing: OutgoingLetter) -> tuple[list[Part], list[dict[str, str | None]]]:
    parts = [Part(MAIN_PART, PDF, outgoing.pdf)]
    enclosures: list[dict[str, str | None]] = []
    for index, enclosure in enumerate(outgoing.enclosures, start=1):
        sha256 = enclosure["sha256"]
        if not sha256:
            enclosures.append({"title": enclosure["title"], "part": None})
            continue
        stored = StoredFile.objects.get(pk=sha256)
        name = enclosure_part_name(index, enclosure["filename"] or f"enclosure-{index}")
        parts.append(Part(name, stored.content_type or "application/octet-stream", read_file(sha256)))
        enclosures.append({"title": enclosure["title"], "part": name})
    return parts, enclosures


def queue_letter(dispatch: Dispatch, outgoing: OutgoingLetter) -> OutgoingMessage:
    """Sign the letter for ``dispatch``'s remote recipient and put it in the outbox.

    ``ValidationFailed`` when the peer would refuse it anyway: over the size it publishes.
    """
    remote = remote_of(dispatch.recipient_id)
    peer, letter = remote.peer, outgoing.letter
    content = letter.letter_content
    identity = deployment_identity()
    parts, enclosures = _letter_parts(outgoing)
    date = letter.date or timezone.localdate()
    metadata = {
        "number": letter.number, "date": date.isoformat(), "date_th": format_thai_date(date),
        "subject": letter.subject, "sender_name": content.issuer.name or letter.organisation.name_th,
        "addressed_to": content.recipient, "urgency": letter.urgency, "secrecy": letter.secrecy,
        "main_part": MAIN_PART, "references": [{"text": text} for text in content.references],
        "enclosures": enclosures, "copies": [{"name": name} for name in content.carbon_copies],
        "copy": dispatch.kind == "cc",
    }
    message_id = uuid.uuid4()
    envelope = Envelope(
        message_id=message_id, kind="letter", created_at=timezone.now(),
        sender=identity.address(letter.organisation.identifier),
        recipient=Address(peer.deployment_id, remote.remote_identifier), metadata=metadata, parts=tuple(parts),
    )
    data = pack(envelope, identity.sealing_key)
    if peer.max_message_bytes and len(data) > peer.max_message_bytes:
        limit_mb = peer.max_message_bytes / 1024 / 1024
        raise ValidationFailed([FieldProblem(
            "enclosures", "too_large",
            f"หนังสือพร้อมสิ่งที่ส่งมาด้วยมีขนาดเกินกว่าที่ {peer.name} รับได้ ({limit_mb:.0f} MB)",
            f"The letter with its enclosures is larger than {peer.name} accepts ({limit_mb:.0f} MB)",
        )])
    return _enqueue(message_id, peer, "letter", letter.organisation_id, data, dispatch=dispatch)


def queue_receipt(received: ReceivedMessage, status: str, *, receive_number: str = "",
                  registered_on: dt.date | None = None, reason: str = "") -> OutgoingMessage | None:
    """Put the receipt ``status`` of a letter received from a peer in the outbox (once per status)."""
    identity = deployment_identity()
    if received.recipient is None or received.recipient_id is None:  # only letters are answered
        raise ValueError("only a received letter has a recipient to answer from")
    letter = Envelope(
        message_id=received.message_id, kind="letter", created_at=received.received_at,
        sender=Address(received.sender_deployment, received.sender_organisation),
        recipient=identity.address(received.recipient.identifier),
    )
    answer = receipt(letter, status, receive_number=receive_number, registered_on=registered_on, reason=reason)
    if OutgoingMessage.objects.filter(message_id=answer.message_id).exists():
        return None
    return _enqueue(answer.message_id, received.peer, "receipt", received.recipient_id,
                    pack(answer, identity.sealing_key), in_reply_to=received.message_id, receipt_status=status)


# ---- delivering


def reopen(message: OutgoingMessage, now: dt.datetime) -> None:
    """Put a message given up, refused or cancelled back in the queue, due ``now``, with a new window."""
    message.status, message.next_attempt_at, message.give_up_at = MessageStatus.PENDING, now, _give_up_at(now)
    message.lease_until, message.refusal_code = None, ""
    message.save()


def _due(now: dt.datetime) -> QuerySet[OutgoingMessage]:
    return OutgoingMessage.objects.filter(status=MessageStatus.PENDING, next_attempt_at__lte=now).filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now))


def due_message_ids(limit: int) -> list[int]:
    """Messages whose next attempt is due and that no pump holds, oldest due first."""
    return list(_due(timezone.now()).order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])


def claim(message_pk: int) -> bool:
    """Lease a due message for one delivery attempt; False when another pump was quicker."""
    now = timezone.now()
    return bool(
        OutgoingMessage.objects.filter(pk=message_pk, status=MessageStatus.PENDING)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + dt.timedelta(seconds=_lease_seconds()), last_attempt_at=now)
    )


@dataclass(frozen=True)
class Claimed:
    """A message leased for an attempt: its id, its peer and its size (to make batches of)."""

    pk: int
    peer_id: int
    size: int


# A pump that renews its leases (``renew_leases``) holds them this long between renewals: a pump
# killed mid-attempt leaves its messages to the next one within this time, not the whole timeout.
RENEWED_LEASE_S = 12


def claim_due(limit: int, *, lease_s: float | None = None) -> list[Claimed]:
    """Lease up to ``limit`` due messages at once (oldest due first), in one short transaction.

    Rows another pump is leasing at this moment are skipped (PostgreSQL: ``SKIP LOCKED``; SQLite's
    write transaction excludes the other pump meanwhile), so no message is leased twice. The lease
    lasts ``lease_s`` (default: longer than an attempt can take); a caller with a shorter one
    renews it while its attempts last.
    """
    now = timezone.now()
    skip = connection.features.has_select_for_update_skip_locked
    with transaction.atomic():
        rows = [Claimed(*row) for row in _due(now).select_for_update(skip_locked=skip).order_by(
            "next_attempt_at", "pk").values_list("pk", "peer_id", "size")[:limit]]
        if rows:
            OutgoingMessage.objects.filter(pk__in=[r.pk for r in rows]).update(
                lease_until=now + dt.timedelta(seconds=lease_s or _lease_seconds()), last_attempt_at=now)
    return rows


def renew_leases(message_pks: list[int], lease_s: float = RENEWED_LEASE_S) -> int:
    """Extend the leases this pump holds on messages still being attempted; how many were extended
    (a message whose outcome is recorded has no lease left and is not leased again)."""
    if not message_pks:
        return 0
    return OutgoingMessage.objects.filter(pk__in=message_pks, status=MessageStatus.PENDING,
                                          lease_until__isnull=False).update(
        lease_until=timezone.now() + dt.timedelta(seconds=lease_s))


def batches_of(claimed: list[Claimed], *, spread: int) -> list[list[int]]:
    """The leased messages in batches per peer, each within the peer's batch size and byte limit,
    split over about ``spread`` senders (a peer that takes no batches gets one message a batch)."""
    peers = {pk: (size, limit) for pk, size, limit in Peer.objects.filter(
        pk__in={c.peer_id for c in claimed}).values_list("pk", "max_batch_messages", "max_message_bytes")}
    batches: list[list[int]] = []
    by_peer: dict[int, list[Claimed]] = {}
    for c in claimed:
        by_peer.setdefault(c.peer_id, []).append(c)
    for peer_id, rows in by_peer.items():
        batch_size, byte_limit = peers.get(peer_id, (1, None))
        most = max(1, min(batch_size, MAX_BATCH_MESSAGES, -(-len(rows) // max(spread, 1))))
        byte_limit = byte_limit or settings.SARABAN_EXCHANGE["max_message_bytes"]
        current: list[int] = []
        size = 0
        for c in rows:
            if current and (len(current) >= most or size + c.size > byte_limit):
                batches.append(current)
                current, size = [], 0
            current.append(c.pk)
            size += c.size
        if current:
            batches.append(current)
    return batches


@dataclass(frozen=True)
class Outcome:
    """What the peer's answer meant: delivered, refused (with its code and words) or retry (why)."""

    result: str  # "delivered" | "refused" | "retry"
    message_th: str = ""
    message_en: str = ""
    code: str = ""


def read_answer(message: OutgoingMessage, status: int, body: bytes, content_type: str) -> Outcome:
    """Judge the peer's HTTP answer to ``message``: only an answer signed by the pinned peer counts."""
    peer = message.peer
    if content_type.split(";")[0].strip().lower() != MIMETYPE:
        return Outcome("retry", f"ปลายทางตอบ HTTP {status} โดยไม่มีใบตอบรับที่ลงนาม",
                       f"The peer answered HTTP {status} without a signed receipt")
    try:
        opened = open_envelope(body, trusted={peer.fingerprint: peer.deployment_id},
                               max_bytes=MAX_ANSWER_BYTES, max_parts=4)
    except EnvelopeRefused as exc:
        return Outcome("retry", f"คำตอบของปลายทางตรวจสอบไม่ผ่าน: {exc.message_th}",
                       f"The peer's answer does not verify: {exc.message_en}")
    answer = opened.envelope
    unread = answer.kind == "rejection" and answer.metadata.get("in_reply_to") is None and \
        answer.metadata.get("code") in REFUSED_UNREAD and 400 <= status < 500
    if answer.metadata.get("in_reply_to") != str(message.message_id) and not unread:
        return Outcome("retry", "คำตอบของปลายทางไม่ได้อ้างถึงข้อความนี้", "The peer's answer is about another message")
    if answer.kind == "receipt" and answer.metadata.get("status") == "delivered" and status == 200:
        return Outcome("delivered")
    if answer.kind == "rejection":
        code = str(answer.metadata.get("code", ""))
        th, en = str(answer.metadata.get("message_th", "")), str(answer.metadata.get("message_en", ""))
        return Outcome("retry" if code in RETRYABLE_REFUSALS else "refused", th, en, code)
    return Outcome("retry", f"ปลายทางตอบ HTTP {status} ที่ไม่ใช่ใบตอบรับ", f"The peer answered HTTP {status}, not a receipt")


def deliver(message_pk: int) -> Outcome:
    """One attempt at a leased message: post it, judge the answer, record the outcome."""
    message = OutgoingMessage.objects.select_related("peer").get(pk=message_pk)
    if not message.peer.is_active:
        outcome = Outcome("retry", "ระบบปลายทางถูกระงับการส่ง", "Sending to this peer is suspended")
    else:
        try:
            answer = exchange_request(message.peer.endpoint, "POST", MESSAGES_PATH, read_file(message.container_id),
                                      headers={MESSAGE_ID_HEADER: str(message.message_id)})
        except PeerUnreachable as exc:
            outcome = Outcome("retry", f"ติดต่อระบบปลายทางไม่ได้: {exc}", f"The peer cannot be reached: {exc}")
        else:
            outcome = read_answer(message, answer.status, answer.body, answer.content_type)
    record_outcome(message_pk, outcome)
    return outcome


def deliver_batch(message_pks: list[int]) -> list[Outcome]:
    """One attempt at several leased messages for one peer: one POST to its ``/exchange/batches``
    when it takes batches (``batch.py``), else one POST each; the outcomes kept in one transaction."""
    messages = list(OutgoingMessage.objects.select_related("peer").filter(pk__in=message_pks).order_by("pk"))
    if not messages:
        return []
    peer = messages[0].peer
    if len(messages) == 1 or peer.max_batch_messages <= 1 or any(m.peer_id != peer.pk for m in messages):
        return [deliver(m.pk) for m in messages]
    outcomes: list[Outcome] | None
    if not peer.is_active:
        outcomes = [Outcome("retry", "ระบบปลายทางถูกระงับการส่ง", "Sending to this peer is suspended")] * len(messages)
    else:
        body, content_type = encode_batch([BatchPart(read_file(m.container_id), message_id=m.message_id)
                                           for m in messages])
        try:
            answer = exchange_request(peer.endpoint, "POST", BATCHES_PATH, body, headers={"Content-Type": content_type},
                                      max_answer_bytes=MAX_ANSWER_BYTES * len(messages))
        except PeerUnreachable as exc:
            outcomes = [Outcome("retry", f"ติดต่อระบบปลายทางไม่ได้: {exc}", f"The peer cannot be reached: {exc}")] \
                * len(messages)
        else:
            outcomes = _batch_outcomes(messages, answer.status, answer.body, answer.content_type)
            if outcomes is None and answer.status >= 500:
                why = Outcome("retry", f"ปลายทางตอบ HTTP {answer.status}", f"The peer answered HTTP {answer.status}")
                outcomes = [why] * len(messages)
    if outcomes is None:  # the batch itself was not taken (a refusal of the whole body): each alone
        return [deliver(m.pk) for m in messages]
    record_outcomes([(m.pk, o) for m, o in zip(messages, outcomes, strict=True)])
    return outcomes


def _batch_outcomes(messages: list[OutgoingMessage], status: int, body: bytes,
                    content_type: str) -> list[Outcome] | None:
    """Each message's outcome from the answer to its batch; None when that is not the answer to a batch."""
    if status != 200:
        return None
    try:
        answers = decode_batch(body, content_type, max_parts=len(messages))
    except EnvelopeRefused:
        return None
    if len(answers) != len(messages):
        return None
    return [read_answer(m, a.status or 0, a.data, a.content_type) for m, a in zip(messages, answers, strict=True)]


def backoff(attempts: int) -> dt.timedelta:
    """How long to wait after the ``attempts``-th failed attempt: 5 s, 10 s, 20 s … at most an hour."""
    return dt.timedelta(seconds=min(5 * 2 ** max(attempts - 1, 0), MAX_BACKOFF_S))


def record_outcome(message_pk: int, outcome: Outcome) -> None:
    """Keep the outcome of an attempt, and what it means for the dispatch the message carries."""
    record_outcomes([(message_pk, outcome)])


def record_outcomes(outcomes: list[tuple[int, Outcome]]) -> None:
    """Keep the outcomes of the attempts of one batch (or one message), in one transaction."""
    with transaction.atomic():
        now = timezone.now()
        messages = {m.pk: m for m in OutgoingMessage.objects.select_for_update().filter(
            pk__in=[pk for pk, _ in outcomes]).order_by("pk")}
        answered_peers = set()
        for message_pk, outcome in outcomes:
            message = messages.get(message_pk)
            if message is None or message.status != MessageStatus.PENDING:  # cancelled meanwhile
                continue
            _record(message, outcome, now)
            if message.status == MessageStatus.DELIVERED:
                answered_peers.add(message.peer_id)
        for peer_id in answered_peers:
            _peer_is_back(peer_id, now)


def _record(message: OutgoingMessage, outcome: Outcome, now: dt.datetime) -> None:
    message.attempts += 1
    message.lease_until = None
    if outcome.result == "delivered":
        message.status, message.delivered_at, message.last_error = MessageStatus.DELIVERED, now, ""
    elif outcome.result == "refused":
        message.status, message.refusal_code = MessageStatus.REFUSED, outcome.code
        message.last_error = f"{outcome.message_th} / {outcome.message_en}"
    else:
        message.last_error = f"{outcome.message_th} / {outcome.message_en}"
        message.refusal_code = outcome.code
        message.next_attempt_at = now + backoff(message.attempts)
        if message.next_attempt_at > message.give_up_at:
            message.status = MessageStatus.GIVEN_UP
    message.save(update_fields=["attempts", "lease_until", "status", "delivered_at", "last_error", "refusal_code",
                                "next_attempt_at"])
    if message.dispatch_id is None:
        return
    if message.status == MessageStatus.DELIVERED:
        dispatch_reached(message.dispatch_id)
    elif message.status == MessageStatus.REFUSED:
        dispatch_failed(message.dispatch_id, f"ปลายทางปฏิเสธ: {outcome.message_th}")
    elif message.status == MessageStatus.GIVEN_UP:
        days = settings.SARABAN_EXCHANGE["retry_days"]
        dispatch_failed(message.dispatch_id, f"ส่งไม่สำเร็จภายใน {days} วัน: {outcome.message_th}")


def _peer_is_back(peer_id: int, now: dt.datetime) -> None:
    """The peer answered: what waits for it because it could not be reached is due again now, instead
    of each message waiting out its own back-off (refusals keep theirs)."""
    OutgoingMessage.objects.filter(peer_id=peer_id, status=MessageStatus.PENDING, refusal_code="",
                                   next_attempt_at__gt=now, attempts__gt=0).update(next_attempt_at=now)


def deliver_next() -> bool:
    """Lease and deliver one due message; False when none is due (the pump then waits)."""
    for message_pk in due_message_ids(8):
        if claim(message_pk):
            deliver(message_pk)
            return True
    return False
