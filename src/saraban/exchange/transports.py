"""How a dispatch reaches its recipient: one interface, one implementation per channel.

Within one deployment the letter is put straight into the recipient organisation's inbox. E-mail
(the 2021 minimum channel) and the DGA e-CMS connector are later transports behind the same method.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from .models import Dispatch

# What puts a dispatch into the recipient's inbox (``saraban.inbox.services.receive_electronic``). The
# inbox sits above exchange (it reads dispatches and reports their status back), so it hands this over
# when its app is ready (``InboxConfig.ready``) instead of exchange importing the layer above it.
Receiver = Callable[[Dispatch, bytes], object]
_receivers: list[Receiver] = []


class Transport(Protocol):
    """A channel that delivers a dispatch to its recipient."""

    name: str

    def deliver(self, dispatch: Dispatch, pdf: bytes) -> None:
        """Hand the letter over; raise to leave the dispatch undelivered."""
        ...


class InternalTransport:
    """Delivery to an organisation hosted by this deployment: a new entry in its inbox."""

    name = "internal"

    def deliver(self, dispatch: Dispatch, pdf: bytes) -> None:
        if not _receivers:  # a programming error: saraban.inbox is always installed
            raise RuntimeError("no inbox receives dispatches: InboxConfig.ready did not run")
        _receivers[0](dispatch, pdf)


def receive_internally_with(receiver: Receiver) -> None:
    """Deliver dispatches within this deployment with ``receiver`` (the inbox's, set once at start-up)."""
    _receivers[:] = [receiver]


def transport_for(dispatch: Dispatch) -> Transport:
    """The transport that carries ``dispatch``."""
    return InternalTransport()
