"""Driving real deployments through an exchange: pin each other, send, register, count.

Everything runs in the deployments' own processes (``Deployment.query``) through the service layer,
as a registry would; the counts are read from each deployment's database.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .deployments import PASSWORD, Deployment

FINGERPRINT = """
from saraban.exchange.identity import deployment_identity
identity = deployment_identity()
result = {"fingerprint": identity.fingerprint, "deployment": identity.deployment_id}
"""


def identity_of(deployment: Deployment) -> dict[str, str]:
    """The deployment's exchange id and certificate fingerprint (made on first use)."""
    return dict(deployment.query(FINGERPRINT))


def pin(deployment: Deployment, peer: Deployment) -> None:
    """``saraban exchange peer add`` on ``deployment`` for ``peer``, confirming the fingerprint."""
    fingerprint = identity_of(peer)["fingerprint"]
    deployment.manage("exchange", "peer", "add", peer.url, "--fingerprint", fingerprint)


PIN = """
from saraban.exchange.peering import add_peer, fetch_directory
add_peer(fetch_directory(URL), confirmed_fingerprint=FINGERPRINT)
result = None
"""


def pin_in_console(deployment: Deployment, peer: Deployment) -> None:
    """What ``saraban exchange peer add URL --fingerprint FP`` does (``fetch_directory`` then ``add_peer``),
    in the deployment's long-lived Python process: no new interpreter to start."""
    fingerprint = identity_of(peer)["fingerprint"]
    deployment.query(PIN, variables={"URL": peer.url, "FINGERPRINT": fingerprint})


def pin_both(a: Deployment, b: Deployment, *, command: bool = True) -> None:
    """Each deployment pins the other: with ``saraban exchange peer add`` (``command``), or the same
    calls in its long-lived Python process (``pin_in_console``, quicker)."""
    pinning = pin if command else pin_in_console
    pinning(a, b)
    pinning(b, a)


SEND = """
from saraban.correspondence.models import Letter
from saraban.correspondence.services import create_letter, issue_number
from saraban.correspondence.workflow import set_recipients, sign_letter, submit_for_review
from saraban.exchange.models import Dispatch, RemoteOrganisation
from saraban.exchange.services import send_letter
from saraban.signatures.methods import SignerProof
org = Organisation.objects.get(identifier=ORG)
officer = Person.objects.get(username=ORG + ".officer")
signer = Person.objects.get(username=ORG + ".signer")
clerk = Person.objects.get(username=ORG + ".registry")
recipients = [RemoteOrganisation.objects.get(peer__deployment_id=peer, remote_identifier=t).organisation
              for peer, t in TO]
sent = []
for i in range(COUNT):
    content = {
        "type": "external", "subject": f"{SUBJECT} ฉบับที่ {i + 1}", "salutation": "เรียน",
        "recipient": "ผู้ว่าราชการจังหวัด", "body": ["ด้วยสำนักงานขอส่งหนังสือฉบับนี้มาเพื่อโปรดทราบ"],
        "closing": "ขอแสดงความนับถือ", "owner_unit": "กองกลาง", "secrecy": SECRECY, "phone": "0 2283 4000",
        "signer": {"name": signer.name_th, "position": "ผู้อำนวยการ"},
    }
    letter = create_letter(org, content, author=officer)
    set_recipients(letter, recipients, [], actor=officer)
    letter = submit_for_review(letter, actor=officer, reviewers=[], signer=signer)
    sign_letter(letter, actor=signer, proof=SignerProof(PASSWORD))
    letter = issue_number(Letter.objects.get(pk=letter.pk), actor=clerk)
    send_letter(letter, actor=clerk)
    sent += [{"letter": letter.pk, "number": letter.number, "message_id": str(d.message_id)}
             for d in Dispatch.objects.filter(letter=letter)]
result = sent
"""


def send(a: Deployment, b: Deployment, count: int = 1, *, org: str | None = None, to: list[str] | None = None,
         subject: str = "ขอเชิญประชุมคณะทำงาน", secrecy: str = "normal") -> list[dict[str, Any]]:
    """``count`` signed, numbered letters from ``a``'s first organisation to ``b``'s, sent; their dispatches."""
    peer = identity_of(b)["deployment"]
    return _send(a, [(peer, t) for t in (to or [b.organisations[0].identifier])], count, org=org, subject=subject,
                 secrecy=secrecy)


def send_to_many(a: Deployment, receivers: list[Deployment], count: int = 1, **options: Any) -> list[dict[str, Any]]:
    """Like ``send``, each letter addressed to the first organisation of every deployment of ``receivers``."""
    return _send(a, [(identity_of(r)["deployment"], r.organisations[0].identifier) for r in receivers], count,
                 **options)


def _send(a: Deployment, to: list[tuple[str, str]], count: int, *, org: str | None = None,
          subject: str = "ขอเชิญประชุมคณะทำงาน", secrecy: str = "normal") -> list[dict[str, Any]]:
    variables = {
        "ORG": org or a.organisations[0].identifier, "TO": to, "COUNT": count, "SUBJECT": subject,
        "PASSWORD": PASSWORD, "SECRECY": secrecy,
    }
    return list(a.query(SEND, variables=variables, timeout=300))


REGISTER_ALL = """
from saraban.inbox.models import IncomingLetter, IncomingStatus
from saraban.inbox.services import register
clerk = Person.objects.get(username=ORG + ".registry")
numbers = []
for incoming in IncomingLetter.objects.filter(organisation__identifier=ORG, status=IncomingStatus.DELIVERED,
                                              received_message__isnull=False).order_by("pk"):
    numbers.append(register(incoming, actor=clerk).receive_number)
result = numbers
"""


def register_all(b: Deployment, org: str | None = None) -> list[int]:
    """``b``'s registry registers (ลงรับ) every letter from a peer awaiting it; the receive numbers."""
    return list(b.query(REGISTER_ALL, variables={"ORG": org or b.organisations[0].identifier}, timeout=300))


SENDER_COUNTS = """
from saraban.exchange.models import Dispatch, OutgoingMessage
rows = Dispatch.objects.exclude(message_id=None)
result = {
    "dispatches": {str(d.message_id): {"status": d.status, "receive_number": d.receive_number,
                                       "reason": d.returned_reason} for d in rows},
    "outbox": {s: OutgoingMessage.objects.filter(status=s).count()
               for s in ("pending", "delivered", "refused", "given_up", "cancelled")},
}
"""

RECEIVER_COUNTS = """
from django.db.models import Count
from saraban.exchange.models import OutgoingMessage, ReceivedMessage
from saraban.inbox.models import IncomingLetter
from saraban.registers.models import RegisterEntry
per_message = {}
for row in IncomingLetter.objects.exclude(received_message=None).values(
        "received_message__message_id").annotate(n=Count("pk")):
    per_message[str(row["received_message__message_id"])] = row["n"]
registered = IncomingLetter.objects.exclude(received_message=None).exclude(receive_number=None)
result = {
    "inbox": per_message,
    "received_messages": ReceivedMessage.objects.count(),
    "registered": registered.count(),
    "receive_numbers": sorted(registered.values_list("receive_number", flat=True)),
    "entries": RegisterEntry.objects.count(),
    "receipts": {s: OutgoingMessage.objects.filter(kind="receipt", status=s).count()
                 for s in ("pending", "delivered", "refused", "given_up", "cancelled")},
}
"""


def sender_counts(a: Deployment) -> dict[str, Any]:
    """Each dispatch to a peer (by message id) with its status, and the outbox by status."""
    return dict(a.query(SENDER_COUNTS))


def receiver_counts(b: Deployment) -> dict[str, Any]:
    """How many inbox entries each received message made, registrations, register entries, receipts."""
    return dict(b.query(RECEIVER_COUNTS))


def wait_for(condition: Callable[[], Any], timeout: float = 60.0, interval: float = 0.3, what: str = "") -> Any:
    """Poll ``condition`` until it returns something truthy; ``AssertionError`` naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}; last: {last!r}")


def statuses(a: Deployment, message_ids: list[str]) -> dict[str, str]:
    """The sender's dispatch status of each message id."""
    dispatches = sender_counts(a)["dispatches"]
    return {m: dispatches.get(m, {}).get("status", "missing") for m in message_ids}


def all_reach(a: Deployment, message_ids: list[str], status: str, timeout: float = 60.0) -> dict[str, Any]:
    """Wait until every dispatch of ``message_ids`` at ``a`` has ``status``; the dispatches."""
    seen: dict[str, Any] = {}

    def reached() -> dict[str, Any] | None:
        dispatches = sender_counts(a)["dispatches"]
        chosen = {m: dispatches.get(m) for m in message_ids}
        seen.update(chosen)
        return chosen if all(d and d["status"] == status for d in chosen.values()) else None

    try:
        return dict(wait_for(reached, timeout, what=f"every dispatch {status}"))
    except AssertionError as timed_out:
        behind = {m: d for m, d in seen.items() if not (d and d["status"] == status)}
        raise AssertionError(f"{timed_out}; not yet {status}: {behind}") from None
