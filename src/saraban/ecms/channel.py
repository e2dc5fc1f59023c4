"""The e-CMS channel as exchange sees it (``exchange.channels``): which recipients it reaches, and how.

An organisation is reached through e-CMS when the e-CMS directory is matched to it
(``EcmsOrganisation.organisation``) and it is not one of ours (an organisation with its own
connection is hosted here and receives internally).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence

from saraban.directory.models import Person
from saraban.exchange.channels import Loop
from saraban.exchange.delivery import OutgoingLetter
from saraban.exchange.dispatches import mark_in_transit
from saraban.exchange.models import Dispatch, DispatchStatus

from .models import EcmsConnection, EcmsInbound, EcmsOrganisation


# The loops and queueing import lxml and the message layer on first use, not at every start-up.
def _run_sender(stop: threading.Event) -> None:
    from .outbound import run_sender

    run_sender(stop)


def _run_poller(stop: threading.Event) -> None:
    from .inbound import run_poller

    run_poller(stop)


class EcmsChannel:
    """DGA e-CMS: letters posted to our node, notifiers polled back."""

    name = "ecms"
    loops: Sequence[Loop] = (_run_sender, _run_poller)

    def reaches(self, organisation_id: int) -> bool:
        """Matched in the e-CMS directory, and not hosted here."""
        return EcmsOrganisation.objects.filter(organisation_id=organisation_id).exists() and \
            not EcmsConnection.objects.filter(organisation_id=organisation_id).exists()

    def deliver(self, dispatch: Dispatch, outgoing: OutgoingLetter) -> None:
        """Queue the letter for our node, in the send transaction: กำลังส่ง until the receiver says more."""
        from .outbound import queue_letter

        queue_letter(dispatch, outgoing)
        mark_in_transit(dispatch, self.name)

    def report(self, ref: str, status: DispatchStatus, *, actor: Person, receive_number: str = "",
               registered_on: dt.date | None = None, reason: str = "") -> None:
        """Registered: AcceptLetterNotifier with our เลขรับ; returned: RejectLetterNotifier with the reason."""
        from .outbound import queue_notifier

        item = EcmsInbound.objects.select_related("connection").filter(pk=int(ref)).first() if ref.isdigit() else None
        if item is None:
            return
        if status == DispatchStatus.REGISTERED:
            queue_notifier(item, "AcceptLetterNotifier", accept_id=receive_number)
        elif status == DispatchStatus.RETURNED:
            queue_notifier(item, "RejectLetterNotifier", description=reason[:1000])
        # Opened (received) has no e-CMS notifier: ReceiveLetterNotifier went when it was stored.
