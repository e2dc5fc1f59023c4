from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import AppConfig

if TYPE_CHECKING:
    from saraban.exchange.models import Dispatch


class InboxConfig(AppConfig):
    name = "saraban.inbox"
    label = "inbox"
    verbose_name = "หนังสือเข้า / Inbox"

    def ready(self) -> None:
        """Receive the dispatches sent within this deployment (exchange's internal transport)."""
        from saraban.exchange.transports import receive_internally_with

        receive_internally_with(_receive)


def _receive(dispatch: Dispatch, pdf: bytes) -> object:
    # Imported on the first delivery: inbox.services pulls in pypdf and the stamps (0.6 s at start-up).
    from .services import receive_electronic

    return receive_electronic(dispatch, pdf)
