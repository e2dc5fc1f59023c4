from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "saraban.audit"
    label = "audit"
    verbose_name = "บันทึกการตรวจสอบ / Audit trail"

    def ready(self) -> None:
        """Record sign-ins and API token creation (``audit/signals.py``)."""
        from . import signals

        signals.connect()
