from django.apps import AppConfig


class SignaturesConfig(AppConfig):
    name = "saraban.signatures"
    label = "signatures"
    verbose_name = "ลายมือชื่ออิเล็กทรอนิกส์ / Signatures"
