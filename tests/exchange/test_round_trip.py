"""Two real deployments exchange letters: send, deliver once, register, and the receipts come back."""

from __future__ import annotations

import pytest

from .deployments import deployments
from .network import all_reach, pin_both, receiver_counts, register_all, send, sender_counts, wait_for

pytestmark = pytest.mark.timeout(300)


def test_round_trip_sqlite_to_postgres() -> None:
    with deployments(2, kinds=("sqlite", "postgres")) as (a, b):
        pin_both(a, b)
        sent = send(a, b, 3)
        ids = [s["message_id"] for s in sent]
        all_reach(a, ids, "delivered")
        wait_for(lambda: len(receiver_counts(b)["inbox"]) == 3, what="three letters in b's inbox")
        numbers = register_all(b)
        assert len(numbers) == 3
        dispatches = all_reach(a, ids, "registered")
        assert sorted(int(d["receive_number"]) for d in dispatches.values()) == sorted(numbers)
        counts = receiver_counts(b)
        assert set(counts["inbox"].values()) == {1} and set(counts["inbox"]) == set(ids)
        wait_for(lambda: receiver_counts(b)["receipts"]["delivered"] == 3, what="b's receipts delivered")
        assert sender_counts(a)["outbox"]["delivered"] == 3
