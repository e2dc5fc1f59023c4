from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "saraban.demo"
    label = "demo"
    verbose_name = "ข้อมูลสาธิต / Demo data"
