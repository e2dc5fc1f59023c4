from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "saraban.inbox"
    label = "inbox"
    verbose_name = "หนังสือเข้า / Inbox"
