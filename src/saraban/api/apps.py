"""The API app: API tokens for machine clients and the NinjaAPI routes."""

from django.apps import AppConfig


class ApiConfig(AppConfig):
    """Saraban's REST API."""

    name = "saraban.api"
    label = "api"
    verbose_name = "API"
    default_auto_field = "django.db.models.BigAutoField"
