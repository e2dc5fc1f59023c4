"""Channels to organisations that Saraban reaches through another system (DGA e-CMS, e-mail).

Such channels live in apps above exchange (``saraban.ecms``); each registers itself here at start-up
(``AppConfig.ready``), so that exchange can pick it for a dispatch and route the recipient's reports
back to it without importing it:

- ``reaches(organisation_id)``: whether this channel carries letters to that organisation;
- ``deliver(dispatch, outgoing)``: queue the letter in the send transaction (a ``Transport``);
- ``report(ref, status, ...)``: tell the sender of a letter this channel brought in what became of
  it (registered, returned), ``ref`` being what the channel put in the ``Delivery``;
- ``loops``: what the exchange pump runs beside its own senders (posting, polling), each until
  ``stop`` is set.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from saraban.directory.models import Person

    from .delivery import OutgoingLetter
    from .models import Dispatch, DispatchStatus

Loop = Callable[[threading.Event], None]


class Channel(Protocol):
    """A way to reach organisations outside Saraban's own network."""

    name: str
    loops: Sequence[Loop]

    def reaches(self, organisation_id: int) -> bool:
        """Whether letters to this organisation travel by this channel."""
        ...

    def deliver(self, dispatch: Dispatch, outgoing: OutgoingLetter) -> None:
        """Queue the letter for ``dispatch`` in the caller's transaction; raise to send nothing."""
        ...

    def report(self, ref: str, status: DispatchStatus, *, actor: Person, receive_number: str = "",
               registered_on: dt.date | None = None, reason: str = "") -> None:
        """Tell the sender of the letter ``ref`` (as delivered by this channel) its new status."""
        ...


_channels: dict[str, Channel] = {}


def register(channel: Channel) -> None:
    """Make ``channel`` available (once at start-up; registering a name again replaces it)."""
    _channels[channel.name] = channel


def channel_named(name: str) -> Channel | None:
    """The registered channel called ``name`` (None: not installed)."""
    return _channels.get(name)


def channel_for(organisation_id: int) -> Channel | None:
    """The channel that reaches ``organisation_id`` (None: this deployment or a peer reaches it)."""
    for channel in _channels.values():
        if channel.reaches(organisation_id):
            return channel
    return None


def pump_loops() -> list[tuple[str, Loop]]:
    """Every channel's loops, named, for the exchange pump to run in threads of their own."""
    return [(f"{channel.name}-{i}", loop) for channel in _channels.values() for i, loop in enumerate(channel.loops)]
