"""The ``saraban`` command: Django's management commands plus Saraban's own (render, serve, audit...)."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    """Run a Saraban command; ``saraban help`` lists them."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saraban.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["saraban", *(sys.argv[1:] if argv is None else argv)])
