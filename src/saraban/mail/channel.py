"""The central e-mail channel as exchange sees it (``exchange.channels``).

An organisation is reached by e-mail when the directory gives it a central e-mail address and it is
hosted nowhere: not by a Saraban peer, not here (nobody in it, above it or under it holds a role
here, and it has no mailbox account of its own), and not through e-CMS (that channel is asked first).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence

from saraban.directory.models import Organisation, Person, RoleAssignment
from saraban.directory.selectors import unit_ids_under
from saraban.exchange.channels import Loop
from saraban.exchange.delivery import OutgoingLetter
from saraban.exchange.dispatches import mark_in_transit
from saraban.exchange.models import Dispatch, DispatchStatus

from .models import MailAccount


def _run_sender(stop: threading.Event) -> None:
    from .sending import run_sender

    run_sender(stop)


def _run_poller(stop: threading.Event) -> None:
    from .receiving import run_poller

    run_poller(stop)


def hosted_here(organisation: Organisation) -> bool:
    """Whether anyone works in the organisation's tree here (itself, its parents, its units)."""
    tree = set(unit_ids_under({organisation.pk}))
    parent_id = organisation.parent_id
    while parent_id is not None and parent_id not in tree:
        tree.add(parent_id)
        parent_id = Organisation.objects.filter(pk=parent_id).values_list("parent_id", flat=True).first()
    return RoleAssignment.objects.filter(organisation_id__in=tree).exists() or \
        MailAccount.objects.filter(organisation_id__in=tree).exists()


class MailChannel:
    """E-mail from our central address to theirs; their central mailbox read for letters and bounces."""

    name = "mail"
    loops: Sequence[Loop] = (_run_sender, _run_poller)

    def reaches(self, organisation_id: int) -> bool:
        """A central e-mail address, and hosted nowhere we know."""
        organisation = Organisation.objects.filter(pk=organisation_id).first()
        return bool(organisation and organisation.email and not organisation.home_deployment
                    and not hosted_here(organisation))

    def deliver(self, dispatch: Dispatch, outgoing: OutgoingLetter) -> None:
        """Compose the e-mail and queue it, in the send transaction: กำลังส่ง until a mail server takes it."""
        from .sending import queue_letter

        queue_letter(dispatch, outgoing)
        mark_in_transit(dispatch, self.name)

    def report(self, ref: str, status: DispatchStatus, *, actor: Person, receive_number: str = "",
               registered_on: dt.date | None = None, reason: str = "") -> None:
        """Registered or returned: a reply to the sender's address (ตอบรับ), with our เลขรับ or the reason."""
        from .models import MailInbound
        from .sending import queue_receipt

        item = MailInbound.objects.select_related("account__organisation").filter(pk=int(ref)).first() \
            if ref.isdigit() else None
        if item is None or status not in (DispatchStatus.REGISTERED, DispatchStatus.RETURNED):
            return
        queue_receipt(item, status.value, receive_number=receive_number,
                      registered_on=registered_on.isoformat() if registered_on else "", reason=reason)
