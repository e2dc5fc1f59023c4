from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import AppConfig

if TYPE_CHECKING:
    from saraban.exchange.delivery import Delivery


class InboxConfig(AppConfig):
    name = "saraban.inbox"
    label = "inbox"
    verbose_name = "หนังสือเข้า / Inbox"

    def ready(self) -> None:
        """Receive the letters exchange delivers, from this deployment or from its peers."""
        from saraban.exchange.delivery import receive_with

        receive_with(_receive)


def _receive(delivery: Delivery) -> int:
    # Imported on the first delivery: inbox.services pulls in pypdf and the stamps (0.6 s at start-up).
    from .services import receive_electronic

    return receive_electronic(delivery)
