from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "saraban.search"
    label = "search"
    verbose_name = "ค้นหา / Search"

    def ready(self) -> None:
        """Keep the index in step: a letter or incoming letter saved is indexed again after its commit."""
        from . import signals

        signals.connect()
