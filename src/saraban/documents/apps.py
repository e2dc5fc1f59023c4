from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "saraban.documents"
    label = "documents"
    verbose_name = "เอกสารและไฟล์ / Documents"
