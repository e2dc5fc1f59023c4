"""The ``saraban`` command: Django's management commands plus Saraban's own (render, serve, audit...).

A few commands need Django's settings but none of its apps (no models, no database): they are run
here without ``django.setup()``, which imports every installed app and takes over a second. Their
``--help`` and argument errors then answer at once; the command configures what it needs itself
(``settings_only``). ``saraban help verify`` and ``call_command("verify")`` go the usual way.
"""

from __future__ import annotations

import importlib
import os
import sys

# Commands (ชื่อคำสั่ง) that run without the app registry, and the module of each.
LIGHT_COMMANDS = {"verify": "saraban.signatures.management.commands.verify"}


def main(argv: list[str] | None = None) -> None:
    """Run a Saraban command; ``saraban help`` lists them."""
    args = sys.argv[1:] if argv is None else argv
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saraban.settings")
    if args and args[0] in LIGHT_COMMANDS:
        _run_light(args)
        return
    from django.core.management import execute_from_command_line

    execute_from_command_line(["saraban", *args])


def _run_light(args: list[str]) -> None:
    """Run a command of ``LIGHT_COMMANDS`` as Django would, minus ``django.setup()``."""
    command = importlib.import_module(LIGHT_COMMANDS[args[0]]).Command()
    command.run_from_argv(["saraban", *args])


def settings_only() -> None:
    """Make a light command's process like a set-up one where it matters: the settings' ``LOGGING``.

    Only the project's ``LOGGING`` (warnings to standard error), not Django's default handlers, whose
    e-mail handler alone imports the views and the ORM (a quarter of a second). Does nothing when
    Django is set up already (``call_command``, the server, the tests).
    """
    from django.apps import apps

    if apps.ready:
        return
    import logging

    from django.conf import settings
    from django.utils.module_loading import import_string

    logging.captureWarnings(True)
    if settings.LOGGING_CONFIG and settings.LOGGING:
        import_string(settings.LOGGING_CONFIG)(settings.LOGGING)
