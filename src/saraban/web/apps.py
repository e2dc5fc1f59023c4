from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "saraban.web"
    label = "web"
    verbose_name = "หน้าเว็บ / Web"
