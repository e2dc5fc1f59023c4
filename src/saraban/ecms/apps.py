from django.apps import AppConfig


class EcmsConfig(AppConfig):
    name = "saraban.ecms"
    label = "ecms"
    verbose_name = "e-CMS (สพร.) / DGA e-CMS connector"
