"""Jobs for the worker-pool tests (module-level, so a worker process can import them)."""

from __future__ import annotations

import os


def pid() -> int:
    """The worker's process id."""
    return os.getpid()


def spin() -> None:
    """Loop for ever, as a parser caught in a cycle would."""
    while True:
        pass


def die(code: int) -> None:
    """End the worker at once, as a crash in C code would."""
    os._exit(code)


def fail(message: str) -> None:
    """Raise in the worker."""
    raise ValueError(message)


def square(n: int) -> int:
    """n²."""
    return n * n


def signing_session() -> str | None:
    """In a signing worker: the token of the signing session whose key it holds, if any."""
    from saraban.signatures.pades import sign

    session = sign._WORKER_SESSION
    return session[0] if session is not None else None
