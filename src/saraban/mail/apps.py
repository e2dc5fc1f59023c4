from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "saraban.mail"
    label = "mail"
    verbose_name = "อีเมลกลาง / Central e-mail channel"

    def ready(self) -> None:
        """Offer exchange the e-mail channel (for recipients known only by their central e-mail address)."""
        from saraban.exchange.channels import register

        from .channel import MailChannel

        register(MailChannel())
