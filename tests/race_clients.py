"""Separate processes for the multi-process tests: each is an app server or worker of its own.

Run as ``python -m tests.race_clients COMMAND ARGS…`` with ``RACE_DB_NAME`` naming the test database
(and ``SARABAN_DATABASE_URL`` for PostgreSQL, as the test run has it). A client sets Django up, prints
``ready`` and waits for a line on its standard input before it starts, so that the test can start
several at the same moment; it prints its result as one JSON line.

- ``number ORG COUNT THREADS``: draw COUNT numbers of the organisation's send register, from THREADS threads.
- ``batch SIGNER ORG LETTER,LETTER… SECONDS LEASE``: start a background batch (typed name), each letter
  taking SECONDS longer, with a lease of LEASE seconds; prints the batch id, then waits to be killed.
- ``resume BATCH SIGNER``: resume the batch in this process; prints ``resumed`` or the refusal's code.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Any

PASSWORD = "x-Pass-1234"  # tests.helpers.PASSWORD


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saraban.settings")
    from django.conf import settings

    # The test database, with the settings' own options (SQLite's IMMEDIATE transactions and timeout).
    settings.DATABASES["default"]["NAME"] = os.environ["RACE_DB_NAME"]
    import django

    django.setup()


def _say(value: Any) -> None:
    print(json.dumps(value), flush=True)


def _wait_for_go() -> None:
    _say("ready")
    sys.stdin.readline()


def number(org_id: int, count: int, threads: int) -> None:
    """Draw ``count`` send-register numbers from ``threads`` threads; print the numbers drawn."""
    from django.db import connection

    from saraban.registers.models import BookKind
    from saraban.registers.numbering import EntryFields
    from saraban.registers.services import register_outgoing

    drawn: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()
    shares = [count // threads + (1 if i < count % threads else 0) for i in range(threads)]

    def client(share: int) -> None:
        try:
            for i in range(share):
                allocation = register_outgoing(org_id, BookKind.SEND, letter_code="นร 0105",
                                               fields=EntryFields(subject=f"process {os.getpid()} {i}"))
                with lock:
                    drawn.append(allocation.number)
        except Exception as exc:  # reported to the test
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    _wait_for_go()
    started = time.perf_counter()
    workers = [threading.Thread(target=client, args=(share,)) for share in shares]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    _say({"numbers": drawn, "errors": errors, "seconds": time.perf_counter() - started})


def batch(signer_id: int, org_id: int, letter_ids: list[int], seconds: float, lease: float) -> None:
    """Start a background batch whose letters each take ``seconds`` longer; print its id; wait."""
    import datetime as dt

    from saraban.correspondence import workflow
    from saraban.correspondence.batch import start_batch
    from saraban.directory.models import Organisation, Person
    from saraban.signatures import batch as mechanics
    from saraban.signatures.methods import SignerProof

    mechanics.LEASE = dt.timedelta(seconds=lease)
    mechanics.HEARTBEAT_SECONDS = lease / 4
    real_sign = workflow.sign_letter

    def slow_sign(*args: Any, **kwargs: Any) -> Any:
        time.sleep(seconds)
        return real_sign(*args, **kwargs)

    workflow.sign_letter = slow_sign  # type: ignore[assignment]
    _wait_for_go()
    started = start_batch(signer=Person.objects.get(pk=signer_id), organisation=Organisation.objects.get(pk=org_id),
                          letter_ids=letter_ids, proof=SignerProof(PASSWORD))
    _say({"batch": started.pk})
    time.sleep(3600)  # the batch signs in its thread until the test kills this process


def resume(batch_id: int, signer_id: int) -> None:
    """Resume the batch here (in this process, to its end); print ``resumed`` or the refusal's code."""
    from saraban.core.errors import SarabanError
    from saraban.correspondence.batch import resume_batch
    from saraban.directory.models import Person
    from saraban.signatures.methods import SignerProof
    from saraban.signatures.models import SigningBatch

    signer = Person.objects.get(pk=signer_id)
    found = SigningBatch.objects.get(pk=batch_id)
    _wait_for_go()
    try:
        resume_batch(found, actor=signer, proof=SignerProof(PASSWORD), background=False)
    except SarabanError as exc:
        _say({"refused": exc.code})
    else:
        _say({"resumed": batch_id})


class Client:
    """One client process, seen from the test: start it, let it go, read its result, or kill it."""

    def __init__(self, database_name: str, command: str, *args: object) -> None:
        """Start ``python -m tests.race_clients command args…`` against the test database."""
        import subprocess
        from pathlib import Path

        env = {**os.environ, "RACE_DB_NAME": database_name, "DJANGO_SETTINGS_MODULE": "saraban.settings"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.race_clients", command, *map(str, args)], env=env,
            cwd=Path(__file__).resolve().parent.parent, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )

    def line(self, timeout: float = 60) -> Any:
        """The next JSON line the client prints (``TimeoutError`` after ``timeout`` seconds)."""
        import selectors

        assert self.process.stdout is not None
        with selectors.DefaultSelector() as waiting:
            waiting.register(self.process.stdout, selectors.EVENT_READ)
            if not waiting.select(timeout):
                raise TimeoutError(f"no answer from the client in {timeout} s")
        text = self.process.stdout.readline()
        if not text:
            assert self.process.stderr is not None
            raise RuntimeError(f"the client ended: {self.process.wait()} {self.process.stderr.read()[-3000:]}")
        return json.loads(text)

    def ready(self, timeout: float = 60) -> None:
        """Wait until the client has set Django up."""
        assert self.line(timeout) == "ready"

    def go(self) -> None:
        """Let the client start."""
        assert self.process.stdin is not None
        self.process.stdin.write("go\n")
        self.process.stdin.flush()

    def kill(self) -> None:
        """End the client at once (SIGKILL: a crash, or a server pulled out), and reap it."""
        self.process.kill()
        self.close()

    def close(self) -> None:
        """Wait for the client's end and close its pipes."""
        self.process.wait(30)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


def main(argv: list[str]) -> None:
    """Run the client named by ``argv[0]``."""
    _setup()
    command, args = argv[0], argv[1:]
    if command == "number":
        number(int(args[0]), int(args[1]), int(args[2]))
    elif command == "batch":
        batch(int(args[0]), int(args[1]), [int(i) for i in args[2].split(",")], float(args[3]), float(args[4]))
    elif command == "resume":
        resume(int(args[0]), int(args[1]))
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
