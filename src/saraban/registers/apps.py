from django.apps import AppConfig


class RegistersConfig(AppConfig):
    name = "saraban.registers"
    label = "registers"
    verbose_name = "ทะเบียนหนังสือ / Registers"
