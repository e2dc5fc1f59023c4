"""Reads of the e-mail channel: accounts, the e-mail outbox as the registry sees it, quarantined mail."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from .models import InboundOutcome, MailAccount, MailInbound, MailOutbound

QUARANTINED = (InboundOutcome.SPAM, InboundOutcome.TOO_LARGE, InboundOutcome.NO_LETTER)


def accounts() -> QuerySet[MailAccount]:
    """Every organisation's central mailbox account, by organisation name."""
    return MailAccount.objects.select_related("organisation").order_by("organisation__name_th")


def outbound_of(organisation_ids: Iterable[int], *, statuses: Iterable[str] | None = None
                ) -> QuerySet[MailOutbound]:
    """The e-mails these organisations send (letters and receipts), newest first."""
    rows = MailOutbound.objects.filter(account__organisation_id__in=set(organisation_ids)).select_related(
        "account", "dispatch__letter", "dispatch__recipient")
    if statuses is not None:
        rows = rows.filter(status__in=list(statuses))
    return rows.order_by("-created_at", "-pk")


def quarantined(organisation_ids: Iterable[int]) -> QuerySet[MailInbound]:
    """Messages read from these organisations' mailboxes and kept out of the inbox, newest first."""
    return MailInbound.objects.filter(account__organisation_id__in=set(organisation_ids),
                                      outcome__in=QUARANTINED).select_related("account").order_by("-received_at")


def messages_of_letter(letter_id: int) -> set[str]:
    """The e-mails (.eml as sent) that carried the letter (for destruction)."""
    return {str(s) for s in MailOutbound.objects.filter(dispatch__letter_id=letter_id)
            .values_list("eml_id", flat=True) if s}


def message_received(inbound_id: str) -> set[str]:
    """The e-mail a letter arrived in (``IncomingLetter.channel_ref`` of the mail channel), for destruction."""
    if not inbound_id.isdigit():
        return set()
    return {str(s) for s in MailInbound.objects.filter(pk=int(inbound_id)).values_list("eml_id", flat=True) if s}
