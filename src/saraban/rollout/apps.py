from django.apps import AppConfig


class RolloutConfig(AppConfig):
    name = "saraban.rollout"
    label = "rollout"
    verbose_name = "แผนขับเคลื่อน / Roll-out programme"
    default_auto_field = "django.db.models.BigAutoField"
