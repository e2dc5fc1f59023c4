from django.apps import AppConfig


class EcmsConfig(AppConfig):
    name = "saraban.ecms"
    label = "ecms"
    verbose_name = "e-CMS (สพร.) / DGA e-CMS connector"

    def ready(self) -> None:
        """Offer exchange the e-CMS channel (for recipients matched in the e-CMS directory)."""
        from saraban.exchange.channels import register

        from .channel import EcmsChannel

        register(EcmsChannel())
