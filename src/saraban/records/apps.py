from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "saraban.records"
    label = "records"
    verbose_name = "การเก็บรักษาหนังสือ / Records"
