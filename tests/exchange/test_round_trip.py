"""Two real deployments exchange letters: send, deliver once, register, and the receipts come back."""

from __future__ import annotations

import pytest

from .deployments import deployments
from .network import (
    all_reach,
    pin_both,
    receiver_counts,
    register_all,
    send,
    send_to_many,
    sender_counts,
    wait_for,
)

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


def test_one_letter_to_two_deployments_and_back() -> None:
    """A ministry writes to a province and a municipality on two other servers, in one letter."""
    with deployments(3, kinds=("sqlite", "postgres", "sqlite")) as (a, b, c):
        pin_both(a, b)
        pin_both(a, c)
        both = send_to_many(a, [b, c])
        assert len(both) == 2  # one dispatch, one message per recipient organisation
        ids = [s["message_id"] for s in both]
        all_reach(a, ids, "delivered")
        for receiver in (b, c):
            wait_for(lambda r=receiver: len(receiver_counts(r)["inbox"]) == 1, what=f"the letter at {receiver.name}")
        (number_b,), (number_c,) = register_all(b), register_all(c)
        dispatches = all_reach(a, ids, "registered")
        assert sorted(d["receive_number"] for d in dispatches.values()) == sorted([str(number_b), str(number_c)])
        # b and c each hold exactly their own copy, nothing of the other's
        assert set(receiver_counts(b)["inbox"]) | set(receiver_counts(c)["inbox"]) == set(ids)
        assert not set(receiver_counts(b)["inbox"]) & set(receiver_counts(c)["inbox"])
