"""Two Saraban deployments, each on its own e-CMS node (the simulator ``node.py``), for the e-CMS tests.

::

    with ecms_network() as net:          # nodes 1 and 2, deployments a and b, connected and matched
        sent = send(net.a, 2)             # two signed letters from a to b's agency, through e-CMS
        wait_for(lambda: len(inbox(net.b)) == 2)
        register_all(net.b)
        net.node1.control(fault="soap_fault", times=2)
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.exchange.deployments import PASSWORD, Deployment, deployments
from tests.exchange.faults import free_port
from tests.exchange.network import wait_for

NODE = Path(__file__).with_name("node.py")
MINISTRY = "M01"
A_DEPT, B_DEPT = "D001", "D002"


class Node:
    """One e-CMS node simulator, a real process with its state in a folder (kill and start keep it)."""

    def __init__(self, name: str, port: int, config: Path, state: Path) -> None:
        self.name, self.port, self.config, self.state = name, port, config, state
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def endpoint(self, department: str) -> str:
        """A department's ECMS-URL at this node."""
        return f"{self.base}/{department}/ecms-ws01/service2"

    def start(self) -> Node:
        self.process = subprocess.Popen(
            [sys.executable, str(NODE), "--port", str(self.port), "--name", self.name, "--config", str(self.config),
             "--state", str(self.state)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline().decode()
        if not line.startswith("ready"):
            raise RuntimeError(f"e-CMS node {self.name} did not start: {line}")
        return self

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    def _json(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(method, path, body=json.dumps(body).encode() if body is not None else None,
                               headers={"Content-Type": "application/json"})
            return json.loads(connection.getresponse().read() or b"null")
        finally:
            connection.close()

    def control(self, **fault: Any) -> None:
        """Inject a fault: soap_fault / delay / duplicate (``times``), or none."""
        self._json("POST", "/_control", fault)

    def state_of(self) -> dict[str, Any]:
        return dict(self._json("GET", "/_state"))


@dataclass
class Network:
    a: Deployment
    b: Deployment
    node1: Node
    node2: Node


CONNECT = """
from saraban.ecms.models import EcmsOrganisation
from saraban.ecms.services import add_to_directory, connect, refresh_directory
org = Organisation.objects.get(identifier=ORG)
connection = connect(org, endpoint=ENDPOINT, ministry_id=MINISTRY, department_id=DEPT, actor=None)
new, updated = refresh_directory(connection)
other = add_to_directory(EcmsOrganisation.objects.get(organization_id=OTHER), actor=None)
result = {"new": new, "updated": updated, "other": other.identifier}
"""


@contextlib.contextmanager
def ecms_network(*, kinds: tuple[str, str] = ("sqlite", "postgres"), timeout_s: int = 5) -> Iterator[Network]:
    """Nodes 1 and 2 and deployments a (on node 1) and b (on node 2), connected and matched both ways."""
    with tempfile.TemporaryDirectory(prefix="saraban-ecms-") as root:
        ports = free_port(), free_port()
        config = Path(root) / "config.json"
        nodes = [Node(f"scp{i + 1}", ports[i], config, Path(root) / f"node{i + 1}") for i in range(2)]
        env = {"SARABAN_ECMS_POLL_S": "1", "SARABAN_ECMS_TIMEOUT_S": str(timeout_s)}
        try:
            with deployments(2, kinds=kinds, env=env) as (a, b):  # type: ignore[arg-type]
                config.write_text(json.dumps({
                    "ministries": [{"id": MINISTRY, "th_name": "สำนักนายกรัฐมนตรี"}],
                    "organizations": [
                        {"id": A_DEPT, "th_name": a.organisations[0].name_th, "en_name": "Agency A",
                         "ministry": MINISTRY, "node": nodes[0].base},
                        {"id": B_DEPT, "th_name": b.organisations[0].name_th, "en_name": "Agency B",
                         "ministry": MINISTRY, "node": nodes[1].base},
                    ],
                }, ensure_ascii=False))
                for node in nodes:
                    node.start()
                for deployment, node, dept, other in ((a, nodes[0], A_DEPT, B_DEPT), (b, nodes[1], B_DEPT, A_DEPT)):
                    deployment.query(CONNECT, variables={
                        "ORG": deployment.organisations[0].identifier, "ENDPOINT": node.endpoint(dept),
                        "MINISTRY": MINISTRY, "DEPT": dept, "OTHER": other})
                yield Network(a, b, nodes[0], nodes[1])
        finally:
            for node in nodes:
                node.kill()


SEND = """
from saraban.correspondence.models import Letter
from saraban.correspondence.services import create_letter, issue_number
from saraban.correspondence.workflow import set_recipients, sign_letter, submit_for_review
from saraban.exchange.models import Dispatch
from saraban.exchange.services import send_letter
from saraban.signatures.methods import SignerProof
org = Organisation.objects.get(identifier=ORG)
officer = Person.objects.get(username=ORG + ".officer")
signer = Person.objects.get(username=ORG + ".signer")
clerk = Person.objects.get(username=ORG + ".registry")
to = Organisation.objects.get(identifier="ecms-" + TO.lower())
sent = []
for i in range(COUNT):
    content = {
        "type": "external", "subject": f"{SUBJECT} ฉบับที่ {i + 1}", "salutation": "เรียน",
        "recipient": "อธิบดีกรมส่งเสริมการปกครองท้องถิ่น", "body": ["ด้วยสำนักงานขอส่งหนังสือฉบับนี้มาเพื่อโปรดทราบ"],
        "closing": "ขอแสดงความนับถือ", "owner_unit": "กองกลาง", "phone": "0 2283 4000",
        "signer": {"name": signer.name_th, "position": "ผู้อำนวยการ"},
    }
    letter = create_letter(org, content, author=officer)
    set_recipients(letter, [to], [], actor=officer)
    letter = submit_for_review(letter, actor=officer, reviewers=[], signer=signer)
    sign_letter(letter, actor=signer, proof=SignerProof(PASSWORD))
    letter = issue_number(Letter.objects.get(pk=letter.pk), actor=clerk)
    send_letter(letter, actor=clerk)
    sent += [{"letter": letter.pk, "number": letter.number, "dispatch": d.pk, "transport": d.transport,
              "status": d.status} for d in Dispatch.objects.filter(letter=letter)]
result = sent
"""


def send(a: Deployment, count: int = 1, *, subject: str = "ขอเชิญประชุมคณะทำงาน") -> list[dict[str, Any]]:
    """``count`` signed, numbered letters from ``a``'s organisation to b's agency through e-CMS; their dispatches."""
    return list(a.query(SEND, variables={"ORG": a.organisations[0].identifier, "TO": B_DEPT, "COUNT": count,
                                         "SUBJECT": subject, "PASSWORD": PASSWORD}, timeout=300))


DISPATCHES = """
from saraban.exchange.models import Dispatch
result = {d.pk: {"status": d.status, "receive_number": d.receive_number, "reason": d.returned_reason,
                 "transport": d.transport} for d in Dispatch.objects.filter(pk__in=IDS)}
"""


def dispatches(a: Deployment, ids: list[int]) -> dict[int, dict[str, str]]:
    """The sender's dispatches: status, the receiver's เลขรับ, the reason of a return."""
    return {int(k): v for k, v in a.query(DISPATCHES, variables={"IDS": ids}).items()}


def all_reach(a: Deployment, ids: list[int], status: str, timeout: float = 60.0) -> dict[int, dict[str, str]]:
    """Wait until every dispatch of ``ids`` has ``status`` at the sender; their rows."""
    return dict(wait_for(lambda: (rows := dispatches(a, ids)) and all(r["status"] == status for r in rows.values())
                         and rows, timeout=timeout, what=f"dispatches {ids} {status}"))


INBOX = """
from saraban.inbox.models import IncomingLetter
result = [{"pk": i.pk, "number": i.letter_number, "subject": i.subject, "status": i.status,
           "receive_number": i.receive_number, "sender": i.sender_name, "secrecy": i.secrecy,
           "enclosures": len(i.enclosures)}
          for i in IncomingLetter.objects.filter(channel="ecms").order_by("pk")]
"""


def inbox(b: Deployment) -> list[dict[str, Any]]:
    """b's incoming letters that came through e-CMS."""
    return list(b.query(INBOX))


ACT = """
from saraban.inbox.models import IncomingLetter, IncomingStatus
from saraban.inbox.services import register, return_to_sender
clerk = Person.objects.get(username=ORG + ".registry")
done = []
for incoming in IncomingLetter.objects.filter(channel="ecms", status=IncomingStatus.DELIVERED).order_by("pk"):
    if ACTION == "register":
        done.append(register(incoming, actor=clerk).receive_number)
    else:
        done.append(return_to_sender(incoming, actor=clerk, reason=REASON).pk)
result = done
"""


def register_all(b: Deployment) -> list[int]:
    """b's registry registers every e-CMS letter awaiting it; the receive numbers."""
    return list(b.query(ACT, variables={"ORG": b.organisations[0].identifier, "ACTION": "register", "REASON": ""}))


def return_all(b: Deployment, reason: str) -> list[int]:
    """b's registry returns (ส่งคืน) every e-CMS letter awaiting registration, with ``reason``."""
    return list(b.query(ACT, variables={"ORG": b.organisations[0].identifier, "ACTION": "return",
                                        "REASON": reason}))


RESEND = """
from saraban.ecms.services import resend
from saraban.exchange.models import Dispatch
clerk = Person.objects.get(username=ORG + ".registry")
result = [resend(Dispatch.objects.get(pk=pk), actor=clerk).pk for pk in IDS]
"""


def resend_all(a: Deployment, ids: list[int]) -> list[int]:
    """a's registry withdraws and sends again each dispatch of ``ids``."""
    return list(a.query(RESEND, variables={"ORG": a.organisations[0].identifier, "IDS": ids}))


ECMS_ROWS = """
from django.db.models import Count
from saraban.ecms.models import EcmsInbound, EcmsOutbound
result = {
    "outbound": list(EcmsOutbound.objects.values("kind", "notifier_kind", "status", "attempts", "last_error",
                                                 "process_id").order_by("pk")),
    "inbound": list(EcmsInbound.objects.values("kind", "outcome", "process_id", "detail").order_by("pk")),
    "not_deleted": EcmsInbound.objects.filter(deleted_at__isnull=True).count(),
}
"""


def ecms_rows(deployment: Deployment) -> dict[str, Any]:
    """The deployment's e-CMS outbox and polled items."""
    return dict(deployment.query(ECMS_ROWS))
