"""Exchange under faults, with real deployments: a receiver down or killed, cut connections, a crashed
sender, a replay a week later, refusals, a moved clock. No mocks: processes, sockets, databases.

After each fault the test counts (``settle``): every letter sent is in exactly one inbox entry at its
recipient, registered (ลงรับ) once with one receive number (เลขรับ), and every status, up to the
เลขรับ, reached the sender.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest

from saraban.exchange.asic import MIMETYPE
from saraban.exchange.client import MESSAGES_PATH
from saraban.exchange.envelope import Address, Envelope, open_envelope, pack
from saraban.exchange.identity import make_identity
from saraban.exchange.refusals import REFUSALS

from .deployments import PASSWORD, Deployment, _pg, deployments
from .helpers import PDF, entries_of, letter, letter_metadata, raw_zip
from .network import all_reach, identity_of, pin_both, receiver_counts, register_all, send, sender_counts, wait_for

# Generous: on a loaded machine (2 cores shared) a deployment's worker and pump take a minute to start.
pytestmark = pytest.mark.timeout(600)

MiB = 1024 * 1024
WAIT = 180.0  # seconds for anything that needs a deployment's pump, which may be starting still
# The client's time-out (and so the outbox lease, 2 × it + 30 s) short enough for a crash test to wait out.
SHORT_TIMEOUT = {"SARABAN_EXCHANGE_TIMEOUT_S": "10"}


# ---------------------------------------------------------------------------------------------------
# What the tests read from the deployments (snippets run in their own processes)

OUTBOX = """
from saraban.exchange.models import OutgoingMessage
result = {str(m.message_id): {"status": m.status, "attempts": m.attempts, "last_error": m.last_error,
                              "refusal_code": m.refusal_code, "leased": m.lease_until is not None}
          for m in OutgoingMessage.objects.filter(message_id__in=IDS)}
"""

CONTAINERS = """
import base64
from saraban.documents.services import read_file
from saraban.exchange.models import OutgoingMessage
result = {str(m.message_id): base64.b64encode(read_file(m.container_id)).decode()
          for m in OutgoingMessage.objects.filter(message_id__in=IDS)}
"""

STORED_ANSWERS = """
import base64
result = {str(m.message_id): base64.b64encode(bytes(m.answer)).decode()
          for m in ReceivedMessage.objects.filter(message_id__in=IDS)}
"""

RECEIPT_IDS = """
result = [str(m) for m in OutgoingMessage.objects.filter(kind="receipt").values_list("message_id", flat=True)]
"""

RECEIPTS_FROM = "result = ReceivedMessage.objects.filter(kind='receipt', sender_deployment=PEER).count()"

# Everything a refused message could have left behind at the receiver.
FOOTPRINT = """
from saraban.documents.models import StoredFile
result = {"received_messages": ReceivedMessage.objects.count(), "incoming": IncomingLetter.objects.count(),
          "files": StoredFile.objects.count(), "organisations": Organisation.objects.count(),
          "outbox": OutgoingMessage.objects.count(), "register_entries": RegisterEntry.objects.count()}
"""

CLOCK = "from django.utils import timezone\nresult = timezone.now().timestamp()"

SET_ORGANISATION_ACTIVE = """
Organisation.objects.filter(identifier=ORG).update(is_active=ACTIVE)
result = None
"""

SET_PEER_ACTIVE = """
from saraban.exchange.peering import set_peer_active
set_peer_active(Peer.objects.get(deployment_id=PEER), ACTIVE)
result = None
"""

SEND_AGAIN = """
from saraban.exchange.services import send_again
clerk = Person.objects.get(username=CLERK)
for message in OutgoingMessage.objects.filter(message_id__in=IDS):
    send_again(message, actor=clerk)
result = None
"""

SEND_REGISTER_ACTIONS = """
result = list(RegisterEntry.objects.filter(letter_id__in=LETTERS).values_list("action", flat=True))
"""

# A letter with one attached enclosure of ANNEX_BYTES random bytes, signed, numbered and sent to TO at PEER.
SEND_WITH_ANNEX = """
import os
from saraban.correspondence.models import Letter
from saraban.correspondence.services import create_letter, issue_number
from saraban.correspondence.workflow import set_recipients, sign_letter, submit_for_review
from saraban.documents.services import store_file
from saraban.exchange.models import Dispatch, RemoteOrganisation
from saraban.exchange.services import send_letter
from saraban.signatures.methods import SignerProof
org = Organisation.objects.get(identifier=ORG)
officer, signer, clerk = (Person.objects.get(username=f"{ORG}.{role}") for role in ("officer", "signer", "registry"))
annex = store_file(b"%PDF-1.7\\n" + os.urandom(ANNEX_BYTES), "application/pdf")
content = {
    "type": "external", "subject": "ส่งรายงานผลการดำเนินงานประจำปี", "salutation": "เรียน",
    "recipient": "ผู้ว่าราชการจังหวัด", "body": ["ด้วยสำนักงานขอส่งรายงานผลการดำเนินงานมาเพื่อโปรดทราบ"],
    "closing": "ขอแสดงความนับถือ", "owner_unit": "กองกลาง", "secrecy": "normal", "phone": "0 2283 4000",
    "signer": {"name": signer.name_th, "position": "ผู้อำนวยการ"},
    "enclosures": [{"title": "รายงานผลการดำเนินงาน", "sha256": annex.sha256, "filename": "report.pdf"}],
}
letter = create_letter(org, content, author=officer)
remote = RemoteOrganisation.objects.get(peer__deployment_id=PEER, remote_identifier=TO)
set_recipients(letter, [remote.organisation], [], actor=officer)
letter = submit_for_review(letter, actor=officer, reviewers=[], signer=signer)
sign_letter(letter, actor=signer, proof=SignerProof(PASSWORD))
letter = issue_number(Letter.objects.get(pk=letter.pk), actor=clerk)
send_letter(letter, actor=clerk)
result = [{"letter": letter.pk, "message_id": str(d.message_id)} for d in Dispatch.objects.filter(letter=letter)]
"""

# The peer's size limit forgotten, as for a peer whose directory does not publish the (optional) limit.
FORGET_PEER_LIMIT = """
Peer.objects.filter(deployment_id=PEER).update(max_message_bytes=None)
result = None
"""

# A letter sealed with the deployment's own (pinned) key, but claiming to come from another deployment.
PACKED_BY = """
import base64, datetime as dt, json, uuid
from saraban.exchange.asic import Part
from saraban.exchange.envelope import Address, Envelope, pack
from saraban.exchange.identity import deployment_identity
pdf = base64.b64decode(PDF)
envelope = Envelope(
    message_id=uuid.uuid4(), kind="letter", created_at=dt.datetime.now(dt.UTC),
    sender=Address(CLAIMED, "a-hq"), recipient=Address(TO, TO_ORG), metadata=json.loads(METADATA),
    parts=(Part("letter.pdf", "application/pdf", pdf), Part("enclosures/01-agenda.pdf", "application/pdf", pdf)),
)
result = base64.b64encode(pack(envelope, deployment_identity().sealing_key)).decode()
"""


def outbox_of(a: Deployment, ids: list[str]) -> dict[str, dict[str, Any]]:
    """``a``'s outgoing messages of ``ids``: status, attempts, last error, refusal code, whether leased."""
    return dict(a.query(OUTBOX, variables={"IDS": ids}))


def containers_of(a: Deployment, ids: list[str]) -> dict[str, bytes]:
    """The signed containers ``a`` stored in its outbox for ``ids``, byte for byte."""
    return {m: base64.b64decode(data) for m, data in a.query(CONTAINERS, variables={"IDS": ids}).items()}


def stored_answers(b: Deployment, ids: list[str]) -> dict[str, bytes]:
    """The signed answers ``b`` stored with the messages ``ids`` it received."""
    return {m: base64.b64decode(data) for m, data in b.query(STORED_ANSWERS, variables={"IDS": ids}).items()}


def footprint(b: Deployment) -> dict[str, int]:
    """Row counts of what receiving a message writes (messages, inbox, files, organisations, registers)."""
    return dict(b.query(FOOTPRINT))


def clock_ahead(d: Deployment) -> float:
    """How many seconds ``d``'s clock is ahead of this process's."""
    return float(d.query(CLOCK)) - time.time()


def set_organisation_active(d: Deployment, identifier: str, active: bool) -> None:
    """Deactivate (or reactivate) an organisation hosted by ``d`` (as its administrator would)."""
    d.query(SET_ORGANISATION_ACTIVE, variables={"ORG": identifier, "ACTIVE": active})


# ---------------------------------------------------------------------------------------------------
# Posting by hand, and reading the signed answer


@dataclass(frozen=True)
class Posted:
    """A deployment's HTTP answer to a message posted by hand."""

    status: int
    content_type: str
    body: bytes


def post(d: Deployment, body: bytes, *, content_type: str = MIMETYPE, chunked: bool = False,
         timeout: float = 60.0) -> Posted:
    """``POST /exchange/messages`` to ``d`` (through its public URL); ``chunked``: no Content-Length."""
    parts = urllib.parse.urlsplit(d.url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        headers = {"Content-Type": content_type}
        if chunked:  # an iterator: http.client sends it with Transfer-Encoding: chunked
            pieces = iter([body[i:i + 64 * 1024] for i in range(0, len(body), 64 * 1024)])
            connection.request("POST", MESSAGES_PATH, body=pieces, headers=headers)
        else:
            connection.request("POST", MESSAGES_PATH, body=body, headers=headers)
        response = connection.getresponse()
        return Posted(response.status, response.getheader("Content-Type", ""), response.read())
    finally:
        connection.close()


def opened_answer(pin: dict[str, str], posted: Posted) -> Envelope:
    """The answer's envelope, once it verifies as signed by the deployment ``pin`` names (``identity_of``)."""
    assert posted.content_type.split(";")[0].strip() == MIMETYPE, posted
    return open_envelope(posted.body, trusted={pin["fingerprint"]: pin["deployment"]}, max_bytes=MiB,
                         max_parts=4).envelope


def assert_refused(pin: dict[str, str], posted: Posted, code: str, what: str) -> None:
    """``posted`` is the signed rejection ``code``, with its HTTP status and its Thai and English reason."""
    expected = REFUSALS[code]
    assert posted.status == expected.http_status, f"{what}: HTTP {posted.status}, not {expected.http_status}"
    answer = opened_answer(pin, posted)
    assert answer.kind == "rejection", f"{what}: answered with a {answer.kind}"
    assert answer.metadata["code"] == code, f"{what}: refused as {answer.metadata['code']}, not {code}"
    assert str(answer.metadata["message_th"]).startswith(expected.message_th), answer.metadata
    assert str(answer.metadata["message_en"]).startswith(expected.message_en), answer.metadata


def tampered(container: bytes, part: str = "letter.pdf") -> bytes:
    """``container`` re-zipped with one byte of ``part`` changed; manifest and signature kept as they were."""
    entries = entries_of(container)
    data = bytearray(entries[part])
    data[len(data) // 2] ^= 0x01
    entries[part] = bytes(data)
    return raw_zip(list(entries.items()))


# ---------------------------------------------------------------------------------------------------
# The counts after each fault


def settle(a: Deployment, b: Deployment, ids: list[str], *, timeout: float = WAIT,
           registered: bool = False) -> dict[str, Any]:
    """Wait for the letters ``ids`` (all ``a`` sent ``b`` in the test) to be delivered, have ``b``'s registry
    register them (unless the test has: ``registered``), wait for the receipts to come back, and count;
    ``b``'s counts.

    Exactly once: one inbox entry per letter at ``b`` and no other, one registration and one receive
    number each (a second registration finds nothing to register), the เลขรับ at ``a``, every receipt
    ``b`` sent stored once at ``a``, and ``a``'s outbox done with every letter.
    """
    if not registered:
        all_reach(a, ids, "delivered", timeout)
        wait_for(lambda: set(ids) <= set(receiver_counts(b)["inbox"]), timeout, what=f"{ids} in {b.name}'s inbox")
        numbers = register_all(b)
        assert len(numbers) == len(ids), f"{b.name} registered {numbers} for {len(ids)} letters"
    assert register_all(b) == [], "a letter was registered twice"
    dispatches = all_reach(a, ids, "registered", timeout)
    counts = receiver_counts(b)
    assert counts["inbox"] == dict.fromkeys(ids, 1), f"inbox entries per message: {counts['inbox']}"
    assert counts["received_messages"] == len(ids), counts
    assert counts["registered"] == len(ids), counts
    assert len(set(counts["receive_numbers"])) == len(ids), f"receive numbers {counts['receive_numbers']}"
    assert sorted(int(dispatches[m]["receive_number"]) for m in ids) == sorted(counts["receive_numbers"])

    def receipts_sent() -> dict[str, int] | None:
        receipts = dict(receiver_counts(b)["receipts"])
        return receipts if receipts["pending"] == 0 and receipts["delivered"] >= len(ids) else None

    receipts = wait_for(receipts_sent, timeout, what=f"{b.name}'s receipts delivered")
    assert receipts["given_up"] == receipts["refused"] == 0, receipts
    from_b = a.query(RECEIPTS_FROM, variables={"PEER": identity_of(b)["deployment"]})
    assert from_b == receipts["delivered"], f"{a.name} stored {from_b} receipts of {receipts['delivered']} sent"
    outbox = outbox_of(a, ids)
    assert {m: o["status"] for m, o in outbox.items()} == dict.fromkeys(ids, "delivered"), outbox
    return counts


# ---------------------------------------------------------------------------------------------------
# 1. The receiver is down when the letter is sent


def test_the_receiver_is_down_when_the_letter_is_sent() -> None:
    """b is stopped when a sends; a's pump keeps the letters and retries; b comes up, they arrive once."""
    with deployments(2, kinds=("sqlite", "postgres")) as (a, b):
        pin_both(a, b, command=False)
        b.stop()
        ids = [s["message_id"] for s in send(a, b, 2)]
        # The pump tries, finds nobody, and keeps the letters (5 s, then 10 s before the next tries).
        wait_for(lambda: all(o["attempts"] >= 1 and o["last_error"] for o in outbox_of(a, ids).values()),
                 WAIT, what="a first failed attempt")
        assert set(sender_counts(a)["dispatches"][m]["status"] for m in ids) == {"sending"}
        time.sleep(3)
        b.start()
        settle(a, b, ids)
        assert all(o["attempts"] >= 2 for o in outbox_of(a, ids).values()), "delivered by a retry"


# ---------------------------------------------------------------------------------------------------
# 2. The receiver is killed (SIGKILL) in the middle of a delivery


@contextlib.contextmanager
def table_locked(d: Deployment, table: str) -> Iterator[None]:
    """Hold an ACCESS EXCLUSIVE lock on ``table`` of ``d``'s PostgreSQL database: whoever writes it waits."""
    import psycopg

    assert d.database_url is not None, "a PostgreSQL deployment"
    with psycopg.connect(d.database_url, connect_timeout=10) as connection:
        connection.execute(f'LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE'.encode())
        try:
            yield
        finally:
            connection.rollback()


def writers_waiting_on(d: Deployment, table: str) -> int:
    """Backends of ``d`` inside a write transaction (an xid assigned: they wrote) waiting for a lock on ``table``."""
    rows = _pg("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock' "
               "AND backend_xid IS NOT NULL AND query ILIKE %s", d.database, f'%"{table}"%')
    return int(rows[0][0])


def test_the_receiver_is_killed_in_the_middle_of_a_delivery() -> None:
    """SIGKILL of b (a) halfway through storing a letter, held there by a table lock, and (b) after it
    committed, its answer held by the proxy: each letter arrives once when b is back."""
    with deployments(2, kinds=("sqlite", "postgres"), proxied=[False, True], env=SHORT_TIMEOUT) as (a, b):
        assert b.proxy is not None
        pin_both(a, b, command=False)

        # (a) Killed before it commits: the message row written, the inbox entry waiting for a lock.
        with table_locked(b, "inbox_incomingletter"):
            first = [s["message_id"] for s in send(a, b, 1)]
            wait_for(lambda: writers_waiting_on(b, "inbox_incomingletter") >= 1, WAIT,
                     what=f"{b.name} storing the letter, halfway through its transaction")
            b.kill()
        assert footprint(b)["received_messages"] == 0, "the killed transaction was rolled back"
        time.sleep(2)
        b.start()
        all_reach(a, first, "delivered", timeout=WAIT)

        # (b) Killed after it committed, its answer held by the proxy until the sender gave up waiting.
        # The proxy's rules apply to new connections: a fresh pump at a, so its kept-alive one goes.
        a.kill_worker()
        a.start_worker()
        b.proxy.delay(20.0, count=1)
        delayed = b.proxy.stats().delayed
        second = [s["message_id"] for s in send(a, b, 1)]
        wait_for(lambda: b.proxy is not None and b.proxy.stats().delayed > delayed, WAIT,
                 what="b's answer held by the proxy")
        assert stored_answers(b, second), "b had committed the letter when it answered"
        b.kill()
        time.sleep(2)
        b.start()
        settle(a, b, first + second)
        assert all(o["attempts"] >= 2 for o in outbox_of(a, first + second).values())


# ---------------------------------------------------------------------------------------------------
# 3. The connection is cut after the receiver committed, before the sender saw the answer


def test_the_answer_is_lost_after_the_receiver_committed() -> None:
    """Requests cut on their way, then answers cut after b committed (and the same for b's receipt at a):
    the senders retry, and each message is stored, registered and numbered once."""
    with deployments(2, kinds=("sqlite", "postgres"), proxied=True) as (a, b):
        assert a.proxy is not None and b.proxy is not None
        pin_both(a, b, command=False)
        before = footprint(b)
        # First the request itself is cut on its way (b gets the headers and part of the body), twice: the
        # client's own retry on a fresh connection too, so the outbox retries 5 s later.
        b.proxy.cut_request(after_bytes=2000, count=2)
        ids = [s["message_id"] for s in send(a, b, 1)]
        wait_for(lambda: b.proxy is not None and b.proxy.stats().cut_requests == 2, WAIT, what="two cut requests")
        assert footprint(b) == before, "a cut request left something at b"
        # Then the answers are cut: b has committed, a does not know; twice again.
        b.proxy.cut_after_response(count=2)
        wait_for(lambda: b.proxy is not None and b.proxy.stats().cut == 2, WAIT, what="two answers swallowed")
        assert stored_answers(b, ids), "b stored the letter whose answer was lost"
        all_reach(a, ids, "delivered", WAIT)
        (message,) = outbox_of(a, ids).values()
        assert message["attempts"] >= 3 and message["last_error"] == "", message  # two failed attempts, then delivered

        # The same on the way back: the answers to b's receipt (ลงรับแล้ว) are lost twice; a stores it once.
        a.proxy.cut_after_response(count=2)
        counts = settle(a, b, ids)
        assert len(counts["receive_numbers"]) == 1
        assert a.proxy.stats().cut == 2 and b.proxy.stats().cut == 2
        receipts = outbox_of(b, b.query(RECEIPT_IDS))
        assert receipts and all(r["status"] == "delivered" for r in receipts.values()), receipts
        assert max(r["attempts"] for r in receipts.values()) >= 2, receipts


# ---------------------------------------------------------------------------------------------------
# 4. The sender is killed before it learns the result


def test_the_sender_is_killed_before_it_learns_the_result() -> None:
    """b stores the letter and answers; a is killed before the answer reaches it; restarted, a delivers
    again once its lease runs out, and b answers the duplicate as the original."""
    with deployments(2, kinds=("sqlite", "postgres"), proxied=[False, True], env=SHORT_TIMEOUT) as (a, b):
        assert b.proxy is not None
        pin_both(a, b, command=False)
        b.proxy.delay(30.0, count=1)  # b stores the letter and answers; the answer waits at the proxy
        ids = [s["message_id"] for s in send(a, b, 1)]
        wait_for(lambda: b.proxy is not None and b.proxy.stats().delayed == 1, WAIT, what="b's answer held")
        a.kill()
        assert stored_answers(b, ids), "b had stored the letter"
        (message,) = outbox_of(a, ids).values()
        assert message["status"] == "pending" and message["attempts"] == 0 and message["leased"], message
        assert sender_counts(a)["dispatches"][ids[0]]["status"] == "sending"
        a.start()
        # The lease of the killed pump (2 × 10 s + 30 s) runs out; the restarted pump delivers again.
        settle(a, b, ids)


# ---------------------------------------------------------------------------------------------------
# 5. Copies at once, and a message replayed a week later


def test_copies_at_once_and_a_replay_a_week_later() -> None:
    """Six copies of a letter (and of its receipt) posted at once get one stored answer; a week later
    (both clocks moved) the same bytes get the same answer, byte for byte, and change nothing."""
    with deployments(2, kinds=("sqlite", "postgres"), clock_offsets=["+0", "+0"]) as (a, b):
        pin_both(a, b, command=False)
        pin_a, pin_b = identity_of(a), identity_of(b)
        a.kill_worker()  # the letter waits in a's outbox while copies of it are posted by hand
        ids = [s["message_id"] for s in send(a, b, 1)]
        container = containers_of(a, ids)[ids[0]]
        with ThreadPoolExecutor(max_workers=6) as pool:
            copies = list(pool.map(lambda _: post(b, container), range(6)))
        assert [p.status for p in copies] == [200] * 6, [(p.status, p.body[:200]) for p in copies]
        stored = stored_answers(b, ids)[ids[0]]
        assert {p.body for p in copies} == {stored}, "six copies at once: one stored answer for all"
        assert receiver_counts(b)["inbox"] == {ids[0]: 1}
        a.start_worker()
        all_reach(a, ids, "delivered", WAIT)  # a's own delivery is one more copy

        # The same for b's receipt (ลงรับแล้ว) at a, a SQLite deployment: six copies at once, then b's pump.
        b.kill_worker()
        assert len(register_all(b)) == 1
        (receipt_id,) = b.query(RECEIPT_IDS)
        receipt = containers_of(b, [receipt_id])[receipt_id]
        with ThreadPoolExecutor(max_workers=6) as pool:
            copies = list(pool.map(lambda _: post(a, receipt), range(6)))
        assert [p.status for p in copies] == [200] * 6, [(p.status, p.body[:200]) for p in copies]
        assert {p.body for p in copies} == {stored_answers(a, [receipt_id])[receipt_id]}
        assert a.query(RECEIPTS_FROM, variables={"PEER": pin_b["deployment"]}) == 1
        assert sender_counts(a)["dispatches"][ids[0]]["status"] == "registered"
        b.start_worker()
        settle(a, b, ids, registered=True)

        # A week later: the letter again at b, b's receipts again at a.
        receipts = containers_of(b, b.query(RECEIPT_IDS))
        receipt_answers = stored_answers(a, list(receipts))
        assert receipts and set(receipt_answers) == set(receipts)
        before = {"a": footprint(a), "b": footprint(b), "counts": receiver_counts(b),
                  "dispatches": sender_counts(a)["dispatches"]}
        for d in (a, b):
            d.set_clock("+7d", wait=False)
        time.sleep(2.1)
        assert all(7 * 86400 - 60 < clock_ahead(d) < 7 * 86400 + 60 for d in (a, b))
        replayed = post(b, container)
        assert replayed.status == 200 and replayed.body == stored, "a week later: the same answer, byte for byte"
        answer = opened_answer(pin_b, replayed)
        assert answer.kind == "receipt" and answer.metadata == {"in_reply_to": ids[0], "status": "delivered"}
        for receipt_id, data in receipts.items():
            again = post(a, data)
            assert again.status == 200 and again.body == receipt_answers[receipt_id], receipt_id
            assert opened_answer(pin_a, again).metadata == {"in_reply_to": receipt_id, "status": "delivered"}
        after = {"a": footprint(a), "b": footprint(b), "counts": receiver_counts(b),
                 "dispatches": sender_counts(a)["dispatches"]}
        assert after == before, "a replay changed something"


# ---------------------------------------------------------------------------------------------------
# 6. Refused, each with its reason; nothing written at the receiver


def test_refused_messages_name_their_reason_and_leave_nothing() -> None:
    """Each bad message gets its HTTP status and a signed rejection with its code and Thai reason, and
    writes nothing at b; a refusal is not kept as the message's answer (the genuine one arrives later)."""
    with deployments(2, kinds=("sqlite", "postgres"), env={"SARABAN_EXCHANGE_MAX_MESSAGE_MB": "1"}) as (a, b):
        pin_both(a, b, command=False)
        a.kill_worker()  # the genuine letter stays in a's outbox while its copies are refused
        ids = [s["message_id"] for s in send(a, b, 1)]
        genuine = containers_of(a, ids)[ids[0]]
        assert len(genuine) < MiB
        pin, pin_a = identity_of(b), identity_of(a)
        to = Address(pin["deployment"], b.organisations[0].identifier)
        impostor = make_identity("saraban.impostor.invalid", deployment_id=pin_a["deployment"])
        stranger = make_identity("saraban.stranger.invalid")

        def packed_by_a(claimed: str, recipient: Address) -> bytes:
            """A letter sealed with a's own key, claiming to be from ``claimed``, for ``recipient``."""
            return base64.b64decode(a.query(PACKED_BY, variables={
                "CLAIMED": claimed, "TO": recipient.deployment, "TO_ORG": recipient.organisation,
                "METADATA": json.dumps(letter_metadata(), ensure_ascii=False), "PDF": base64.b64encode(PDF).decode()}))

        posing = packed_by_a(stranger.deployment_id, to)
        elsewhere = packed_by_a(pin_a["deployment"], Address(stranger.deployment_id, "stranger-hq"))
        before = footprint(b)

        cases: list[tuple[str, str, Posted]] = [
            ("a tampered letter.pdf", "exchange.digest_mismatch", post(b, tampered(genuine))),
            ("a wrong signer claiming to be a", "exchange.unknown_signer",
             post(b, pack(letter(Address(pin_a["deployment"], "a-hq"), to), impostor.sealing_key))),
            ("an unknown peer", "exchange.unknown_signer",
             post(b, pack(letter(stranger.address("stranger-hq"), to), stranger.sealing_key))),
            ("a pinned peer posing as another", "exchange.sender_mismatch", post(b, posing)),
            ("a letter for another deployment", "exchange.wrong_deployment", post(b, elsewhere)),
            ("an oversized body", "exchange.too_large", post(b, b"\0" * (MiB + 1))),
            ("an oversized chunked body", "exchange.too_large", post(b, b"\0" * (MiB + 1), chunked=True)),
            ("a garbage body", "exchange.not_zip", post(b, b"not a zip at all " * 64)),
            ("a wrong Content-Type", "exchange.unsupported_media_type",
             post(b, genuine, content_type="application/zip")),
        ]
        for what, code, posted in cases:
            assert_refused(pin, posted, code, what)
        assert footprint(b) == before, "a refused message left something behind"
        assert receiver_counts(b)["inbox"] == {}

        # b suspends a, then a's pump delivers the genuine letter: refused as from a signer b does not
        # trust, a refusal an administrator can put right, so a keeps it and tries again.
        b.query(SET_PEER_ACTIVE, variables={"PEER": pin_a["deployment"], "ACTIVE": False})
        a.start_worker()
        wait_for(lambda: outbox_of(a, ids)[ids[0]]["refusal_code"] == "exchange.unknown_signer", WAIT,
                 what="a's pump refused by b")
        (message,) = outbox_of(a, ids).values()
        assert message["status"] == "pending", message
        assert REFUSALS["exchange.unknown_signer"].message_th in message["last_error"], message
        assert sender_counts(a)["dispatches"][ids[0]]["status"] == "sending"
        assert footprint(b) == before, "the refused delivery left something behind"

        # Resumed: the refusals were not kept as the message's answer; the genuine letter arrives, once.
        b.query(SET_PEER_ACTIVE, variables={"PEER": pin_a["deployment"], "ACTIVE": True})
        settle(a, b, ids)


def test_an_oversized_letter_is_refused_and_the_sender_says_why() -> None:
    """b accepts 1 MB; a does not know it (b's directory may leave the limit out) and sends 1.2 MB."""
    with deployments(2, kinds=("sqlite", "postgres"), env={"SARABAN_EXCHANGE_MAX_MESSAGE_MB": "1"}) as (a, b):
        pin_both(a, b, command=False)
        pin_b = identity_of(b)
        a.query(FORGET_PEER_LIMIT, variables={"PEER": pin_b["deployment"]})
        before = footprint(b)
        sent = a.query(SEND_WITH_ANNEX, timeout=300, variables={
            "ORG": a.organisations[0].identifier, "PEER": pin_b["deployment"], "TO": b.organisations[0].identifier,
            "ANNEX_BYTES": 1200 * 1024, "PASSWORD": PASSWORD})
        ids = [s["message_id"] for s in sent]
        assert MiB < len(containers_of(a, ids)[ids[0]]) < 2 * MiB
        wait_for(lambda: outbox_of(a, ids)[ids[0]]["attempts"] >= 1, WAIT, what="a's first attempt")
        (message,) = outbox_of(a, ids).values()
        assert footprint(b) == before
        too_large = REFUSALS["exchange.too_large"].message_th
        assert message["status"] == "refused" and message["refusal_code"] == "exchange.too_large", (
            "b refused the letter as too large (HTTP 413, a signed rejection), but a does not take it as a "
            f"refusal: its rejection has no in_reply_to (the body was not read), so a retries; outbox: {message}")
        (dispatch,) = all_reach(a, ids, "failed", timeout=WAIT).values()
        assert dispatch["reason"].startswith(f"ปลายทางปฏิเสธ: {too_large}"), dispatch


# ---------------------------------------------------------------------------------------------------
# 7. Clocks ten minutes apart


def test_clocks_ten_minutes_apart() -> None:
    """a exchanges with b ten minutes ahead and with c ten minutes behind: letters and receipts flow."""
    with deployments(3, kinds=("sqlite", "postgres", "sqlite"), clock_offsets=[None, "+10m", "-10m"]) as (a, b, c):
        assert 590 < clock_ahead(b) < 610 and -610 < clock_ahead(c) < -590
        pin_both(a, b, command=False)
        pin_both(a, c, command=False)
        to_b = [s["message_id"] for s in send(a, b, 2)]
        to_c = [s["message_id"] for s in send(a, c, 2)]
        settle(a, b, to_b)
        settle(a, c, to_c)


# ---------------------------------------------------------------------------------------------------
# 8. A refused letter shows at the sender, and so does one given up after the retry window


def test_a_refused_letter_shows_at_the_sender_with_its_reason() -> None:
    """A permanent refusal (the recipient closed at b) makes a's dispatch ส่งไม่สำเร็จ with the reason in Thai,
    in the send register too; so does giving up after the retry window. ส่งอีกครั้ง then delivers once."""
    with deployments(2, kinds=("sqlite", "postgres"), clock_offsets=["+0", None]) as (a, b):
        pin_both(a, b, command=False)
        recipient = b.organisations[0].identifier
        clerk = f"{a.organisations[0].identifier}.registry"
        set_organisation_active(b, recipient, False)  # closed at b; a's directory still lists it
        before = footprint(b)
        sent = send(a, b, 1)
        ids = [s["message_id"] for s in sent]
        (dispatch,) = all_reach(a, ids, "failed", timeout=WAIT).values()
        reason = REFUSALS["exchange.unknown_recipient"].message_th
        assert dispatch["reason"].startswith(f"ปลายทางปฏิเสธ: {reason}"), dispatch
        (message,) = outbox_of(a, ids).values()
        assert message["status"] == "refused" and message["refusal_code"] == "exchange.unknown_recipient"
        assert message["attempts"] == 1, "a refusal is not retried"
        actions = a.query(SEND_REGISTER_ACTIONS, variables={"LETTERS": [s["letter"] for s in sent]})
        assert any("ส่งไม่สำเร็จ" in action and reason in action for action in actions), actions
        assert footprint(b) == before, "the refused letter left something at b"

        # Open again at b, ส่งอีกครั้ง at a: the same message id arrives now, once.
        set_organisation_active(b, recipient, True)
        a.query(SEND_AGAIN, variables={"IDS": ids, "CLERK": clerk})
        all_reach(a, ids, "delivered", WAIT)

        # b down for "four days" (a's clock moved on): past the retry window (3 days) a gives up, and says so.
        b.stop()
        late = [s["message_id"] for s in send(a, b, 1)]
        wait_for(lambda: outbox_of(a, late)[late[0]]["attempts"] >= 1, WAIT, what="a first failed attempt")
        a.set_clock("+4d")
        (dispatch,) = all_reach(a, late, "failed", timeout=WAIT).values()
        assert dispatch["reason"].startswith("ส่งไม่สำเร็จภายใน 3 วัน: ติดต่อระบบปลายทางไม่ได้"), dispatch
        assert outbox_of(a, late)[late[0]]["status"] == "given_up"
        b.start()
        a.query(SEND_AGAIN, variables={"IDS": late, "CLERK": clerk})
        settle(a, b, ids + late)
