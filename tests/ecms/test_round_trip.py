"""Saraban A → e-CMS node 1 → node 2 → Saraban B, and the notifiers back, with real processes.

Two deployments (SQLite and PostgreSQL), each with its own e-CMS node (``node.py``, a store-and-forward
simulator written apart from Saraban's own message layer). After each case: every letter is in B's
inbox exactly once, registered at most once, and A's dispatch shows what B did, with B's เลขรับ.
"""

from __future__ import annotations

from collections import Counter

import pytest

from .network import (
    A_DEPT,
    B_DEPT,
    all_reach,
    ecms_network,
    ecms_rows,
    inbox,
    register_all,
    resend_all,
    return_all,
    send,
    wait_for,
)

pytestmark = pytest.mark.timeout(420)


def _once_each(entries: list[dict[str, object]], numbers: list[str]) -> None:
    counts = Counter(e["number"] for e in entries)
    assert set(numbers) == set(counts) and set(counts.values()) == {1}, counts


def test_happy_path_then_reject_withdraw_and_resend() -> None:
    with ecms_network() as net:
        a, b = net.a, net.b
        # the happy path: sent, received (ReceiveLetterNotifier), registered (AcceptLetterNotifier, AcceptID)
        sent = send(a, 2)
        assert {s["transport"] for s in sent} == {"ecms"} and {s["status"] for s in sent} == {"sending"}
        ids = [s["dispatch"] for s in sent]
        wait_for(lambda: len(inbox(b)) == 2, what="two letters in b's inbox")
        letters = inbox(b)
        _once_each(letters, [s["number"] for s in sent])
        assert all(e["sender"] for e in letters)  # named from b's e-CMS directory
        all_reach(a, ids, "delivered")
        numbers = register_all(b)
        rows = all_reach(a, ids, "registered")
        assert sorted(int(r["receive_number"]) for r in rows.values()) == sorted(numbers)
        state1 = net.node1.state_of()
        assert {o["status"] for o in state1["outbound"]} == {"ACCEPTED"}
        # every item b polled was deleted at its node, and a's node queue is empty too
        wait_for(lambda: not net.node2.state_of()["queues"].get(B_DEPT), what="node 2's queue emptied")
        wait_for(lambda: not net.node1.state_of()["queues"].get(A_DEPT), what="node 1's queue emptied")
        assert ecms_rows(b)["not_deleted"] == 0

        # the reject path: b returns the letter, a withdraws it and sends it again, b registers it
        (rejected,) = send(a, 1, subject="ขอความอนุเคราะห์ข้อมูล")
        wait_for(lambda: any(e["number"] == rejected["number"] for e in inbox(b)), what="the letter to reject")
        return_all(b, "ส่งผิดหน่วยงาน")
        (row,) = all_reach(a, [rejected["dispatch"]], "returned").values()
        assert "ส่งผิดหน่วยงาน" in row["reason"]
        resend_all(a, [rejected["dispatch"]])
        wait_for(lambda: sum(e["number"] == rejected["number"] for e in inbox(b)) == 2, what="the letter resent")
        (number,) = register_all(b)
        (row,) = all_reach(a, [rejected["dispatch"]], "registered").values()
        assert row["receive_number"] == str(number)
        statuses = [o["status"] for o in net.node1.state_of()["outbound"] if o["letter_id"] == rejected["number"]]
        assert "WITHDRAWN" in statuses and statuses[-1] == "ACCEPTED", statuses
        kinds = Counter(o["notifier_kind"] for o in ecms_rows(b)["outbound"])
        assert kinds == {"ReceiveLetterNotifier": 4, "AcceptLetterNotifier": 3, "RejectLetterNotifier": 1}, kinds
