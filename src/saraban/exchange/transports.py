"""How a dispatch reaches its recipient: one interface, one implementation per channel.

Within one deployment the letter is put straight into the recipient organisation's inbox. E-mail
(the 2021 minimum channel) and the DGA e-CMS connector are later transports behind the same method.
"""

from __future__ import annotations

from typing import Protocol

from .models import Dispatch


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
        from saraban.inbox.services import receive_electronic

        receive_electronic(dispatch, pdf)


def transport_for(dispatch: Dispatch) -> Transport:
    """The transport that carries ``dispatch``."""
    return InternalTransport()
