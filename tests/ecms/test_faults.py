"""e-CMS faults with real processes: a node that answers SOAP Faults, times out, is down, or hands an item out twice.

After each, the exactly-once counts: every letter is in B's inbox once, registered once, and A's
dispatch reaches ลงรับแล้ว with B's เลขรับ.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest

from .network import A_DEPT, B_DEPT, Network, all_reach, ecms_network, ecms_rows, inbox, register_all, send, wait_for

pytestmark = pytest.mark.timeout(600)


def _settle(net: Network, sent: list[dict[str, object]]) -> None:
    """Everything sent arrives once, is registered once, and A sees each เลขรับ."""
    numbers = [str(s["number"]) for s in sent]
    wait_for(lambda: set(numbers) <= {e["number"] for e in inbox(net.b)}, timeout=90, what="the letters at b")
    register_all(net.b)
    rows = all_reach(net.a, [int(str(s["dispatch"])) for s in sent], "registered", timeout=90)
    counts = Counter(e["number"] for e in inbox(net.b))
    assert all(counts[n] == 1 for n in numbers), counts
    registered = {e["number"]: e["receive_number"] for e in inbox(net.b)}
    for s in sent:
        assert rows[int(str(s["dispatch"]))]["receive_number"] == str(registered[s["number"]])


def test_faults_soap_fault_timeout_node_down_and_duplicate_poll() -> None:
    with ecms_network(timeout_s=2) as net:
        a, b = net.a, net.b

        # node 1 answers SOAP Faults (Server: node busy) three times: retried, delivered once
        net.node1.control(fault="soap_fault", times=3, operation="CorrespondenceLetterOutboundRequest")
        sent = send(a, 1, subject="ทดสอบ SOAP Fault")
        wait_for(lambda: any("E999" in o["last_error"] or o["attempts"] > 1 for o in ecms_rows(a)["outbound"]),
                 what="the fault recorded in words")
        _settle(net, sent)

        # node 1 takes longer than our timeout: the attempt is uncertain, the node is asked before posting
        # again (OutboundStatus), and b gets one copy
        net.node1.control(fault="delay", seconds=4, times=1, operation="CorrespondenceLetterOutboundRequest")
        sent = send(a, 1, subject="ทดสอบหมดเวลา")
        _settle(net, sent)
        wait_for(lambda: {o["status"] for o in ecms_rows(a)["outbound"]} == {"posted"}, timeout=30,
                 what="the uncertain letter adopted by its ProcessID")
        requests = net.node1.state_of()["requests"]
        assert requests.get("OutboundStatusRequest", 0) >= 1, requests
        assert Counter(e["number"] for e in inbox(b))[sent[0]["number"]] == 1

        # node 2 is down for a while: node 1 stores and forwards, b's polls fail and are retried
        net.node2.kill()
        sent = send(a, 2, subject="ทดสอบโหนดปลายทางหยุดทำงาน")
        wait_for(lambda: all(o["process_id"] for o in ecms_rows(a)["outbound"] if o["kind"] == "letter"),
                 what="node 1 took the letters")
        time.sleep(3)
        wait_for(lambda: "e-CMS" in str(b.query(
            "from saraban.ecms.models import EcmsConnection\nresult = EcmsConnection.objects.get().last_error")),
            what="b's poll failure in words")
        net.node2.start()
        _settle(net, sent)

        # node 1 down while a sends: the letter waits in a's outbox, then goes once node 1 is back
        net.node1.kill()
        sent = send(a, 1, subject="ทดสอบโหนดต้นทางหยุดทำงาน")
        wait_for(lambda: any("ติดต่อ e-CMS ไม่ได้" in o["last_error"] for o in ecms_rows(a)["outbound"]),
                 what="the unreachable node in words")
        net.node1.start()
        _settle(net, sent)

        # node 2 hands the next item out again after b deleted it: one inbox entry still
        net.node2.control(fault="duplicate", times=2)
        sent = send(a, 1, subject="ทดสอบรายการซ้ำ")
        _settle(net, sent)
        rows = ecms_rows(b)
        assert rows["not_deleted"] == 0
        assert len({i["process_id"] for i in rows["inbound"]}) == len(rows["inbound"])  # each kept once

        # nothing left queued anywhere; every dispatch registered exactly once
        wait_for(lambda: not net.node2.state_of()["queues"].get(B_DEPT), what="node 2's queue emptied")
        wait_for(lambda: not net.node1.state_of()["queues"].get(A_DEPT), what="node 1's queue emptied")
        assert len(inbox(b)) == 6
