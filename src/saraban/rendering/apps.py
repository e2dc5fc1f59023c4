"""Django app configuration of ``saraban.rendering`` (no models)."""

from __future__ import annotations

from django.apps import AppConfig


class RenderingConfig(AppConfig):
    """PDF rendering of letters and registers; it provides the ``render`` command."""

    name = "saraban.rendering"
    label = "rendering"
    verbose_name = "การจัดทำเอกสาร PDF / PDF rendering"
