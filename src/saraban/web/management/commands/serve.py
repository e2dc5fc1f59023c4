"""``saraban serve [--host H] [--port P]``: serve this deployment with waitress."""

from __future__ import annotations

import signal
import subprocess
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Serve Saraban over HTTP (waitress, multi-threaded)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument(
            "--no-worker", action="store_true",
            help="do not start the background worker (run `saraban db_worker` separately)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not 0 < options["port"] < 65536:
            raise CommandError("port must be 1–65535 / พอร์ตต้องอยู่ระหว่าง 1–65535", returncode=2)
        host, port = options["host"], options["port"]
        worker = pump = None
        if not options["no_worker"]:
            # The children first: each takes seconds to start, so a deployment restarted after a crash
            # delivers its outbox (receipts owed to peers) as soon as possible, not after its own start-up.
            # The embedded default needs no other service: background tasks run in a child process,
            # which logs each task to SARABAN_HOME/worker.log rather than over the start-up message.
            log_path = Path(settings.SARABAN_HOME) / "worker.log"
            log = log_path.open("ab")
            worker = subprocess.Popen(
                [sys.executable, "-m", "saraban", "db_worker", "--interval", "1"], stdout=log, stderr=log
            )
            # The exchange outbox's pump: delivers letters and receipts to other deployments.
            pump = subprocess.Popen([sys.executable, "-m", "saraban", "exchange", "pump"], stdout=log, stderr=log)
            self.stdout.write(f"งานเบื้องหลัง / background worker: log in {log_path}")
            _start_daily_schedule()
        # SIGTERM (systemd, a container runtime) ends the server as Ctrl+C does: the finally block below
        # stops the background worker and this process's worker pools, leaving no child behind.
        signal.signal(signal.SIGTERM, _stop_serving)
        try:
            # Static files before the application: its WhiteNoise indexes them when it is built.
            call_command("collectstatic", interactive=False, verbosity=0)
            from waitress import serve

            from saraban.wsgi import application

            shown = f"[{host}]" if ":" in host else host
            self.stdout.write(f"Saraban พร้อมใช้งานที่ / is serving at http://{shown}:{port}/  (Ctrl+C to stop)")
            # waitress buffers a request body before Django sees it: stop one far over the upload limit
            # at its headers (Django answers a bilingual 413 for those just over it).
            largest = max(settings.SARABAN_MAX_UPLOAD_BYTES, settings.SARABAN_EXCHANGE["max_message_bytes"])
            serve(application, host=host, port=port, threads=options["threads"], ident="saraban",
                  max_request_body_size=largest + 8 * 1024 * 1024)
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc} / เปิดพอร์ตไม่ได้", returncode=1) from None
        except KeyboardInterrupt:
            self.stdout.write("Saraban หยุดทำงาน / stopped")
        finally:
            from saraban.core.workers import shutdown_all

            for child in (worker, pump):
                if child is not None:
                    child.terminate()  # db_worker finishes or abandons its task; the pump its attempt
            for child in (worker, pump):
                if child is not None:
                    try:
                        child.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        child.kill()
                        child.wait(5)
            shutdown_all()


def _stop_serving(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _start_daily_schedule() -> None:
    """Enqueue the daily certificate and archive jobs now and every day after, for the worker; every hour,
    the validations on receipt and the OCR of scans that a killed worker lost."""
    import contextlib
    import threading
    import time

    from django.db import close_old_connections

    from saraban.inbox.services import cancel_stale_reservations
    from saraban.inbox.tasks import enqueue_missing_validations
    from saraban.ocr.services import requeue_stalled
    from saraban.signatures.daily import enqueue_if_due

    def loop() -> None:
        while True:
            close_old_connections()
            with contextlib.suppress(Exception):  # a busy database at start-up: try again in an hour
                enqueue_if_due()
            with contextlib.suppress(Exception):  # reports lost with a killed worker, made again
                enqueue_missing_validations()
            with contextlib.suppress(Exception):  # scans whose OCR was lost with a killed worker, read again
                requeue_stalled()
            with contextlib.suppress(Exception):  # receive numbers a stopped ลงรับหลายฉบับ left reserved
                cancel_stale_reservations()
            time.sleep(3600)

    threading.Thread(target=loop, name="daily-jobs", daemon=True).start()
