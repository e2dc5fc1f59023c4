"""Typst rendering in the render workers: one reusable ``typst.Compiler`` per template per worker.

Reusing a compiler keeps the parsed fonts, the decoded Garuda image and Typst's caches between
documents, which about halves the time of each render. The data of a document always travels as a
JSON string in ``sys.inputs`` and is decoded by the template, so no user text is ever spliced into
Typst markup.

Documents are laid out in the render workers (``saraban.core.workers``, one per core by default,
``SARABAN_RENDER_WORKERS``), not in the server's own process: a long document then occupies one
worker, not a lock every other user waits behind; a render that overruns its time limit
(``SARABAN_RENDER_TIMEOUT``, 60 s) is stopped; and the memory a large document took comes back when
its worker is retired. Commands without threads (``saraban render``) may compile in-process instead
(``SARABAN_RENDER_IN_PROCESS=1``).
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typst

from saraban.core.workers import WorkerCrashed, WorkerJobFailed, WorkerPool, WorkerTimeout, shared_pool

from .fonts import FONT_DIR

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATE_DIR = PACKAGE_DIR / "templates"
DEFAULT_PDF_STANDARD = "a-3b"


class RenderError(RuntimeError):
    """Typst failed to lay out a document (a bug in a template, not in the user's data)."""


# A document whose PDF is larger than this retires its worker afterwards: Typst keeps its caches.
_RETIRE_AFTER_BYTES = 8 * 1024 * 1024
_IN_WORKER = False  # set in a render worker: compile here, never hand the job on


def render_pool() -> WorkerPool:
    """This process's render workers (``SARABAN_RENDER_WORKERS``, default: one per core)."""
    return shared_pool("render", size_setting="SARABAN_RENDER_WORKERS", warm=f"{__name__}:warm_up", max_jobs=300)


def warm_up() -> None:
    """A render worker's start: the letter template's compiler, with its fonts and the Garuda."""
    global _IN_WORKER
    _IN_WORKER = True
    _slot("letter")


def _in_process() -> bool:
    return _IN_WORKER or os.environ.get("SARABAN_RENDER_IN_PROCESS", "") == "1"


@dataclass
class _Slot:
    compiler: typst.Compiler
    lock: threading.Lock


_slots: dict[tuple[int, str], _Slot] = {}
_slots_lock = threading.Lock()


def template_path(name: str) -> Path:
    """The path of the Typst template ``name`` (e.g. ``"letter"``)."""
    return TEMPLATE_DIR / f"{name}.typ"


def _slot(template: str) -> _Slot:
    key = (os.getpid(), template)
    with _slots_lock:
        slot = _slots.get(key)
        if slot is None:
            compiler = typst.Compiler(
                str(template_path(template)),
                root=str(PACKAGE_DIR),
                font_paths=[str(FONT_DIR)],
                ignore_system_fonts=True,
            )
            slot = _Slot(compiler, threading.Lock())
            _slots[key] = slot
        return slot


def compile_pdf(
    template: str, data: dict[str, Any], *, pdf_standard: str | None = DEFAULT_PDF_STANDARD
) -> bytes:
    """Lay out ``data`` with the template ``template`` and return the PDF.

    ``pdf_standard`` is a Typst PDF standard such as ``"a-3b"`` (the default), ``"a-2b"`` or
    ``"a-4"``; ``None`` or ``""`` writes a plain PDF.
    """
    return _compile(template, data, pdf_standard, None)[0]


def compile_pdf_with_query(
    template: str, data: dict[str, Any], selector: str, *, pdf_standard: str | None = DEFAULT_PDF_STANDARD
) -> tuple[bytes, list[Any]]:
    """``compile_pdf``, and the values of the ``metadata`` elements labelled ``selector`` in that layout.

    The query reuses the layout Typst just made (about a millisecond), so a caller learns where things
    landed on the page (e.g. the signature room) without reading the PDF back.
    """
    return _compile(template, data, pdf_standard, selector)


def _compile(
    template: str, data: dict[str, Any], pdf_standard: str | None, selector: str | None
) -> tuple[bytes, list[Any]]:
    if _in_process():
        return _compile_here(template, data, pdf_standard, selector)
    timeout = float(os.environ.get("SARABAN_RENDER_TIMEOUT") or 60)
    try:
        result: tuple[bytes, list[Any]] = render_pool().run(
            _compile_here, template, data, pdf_standard, selector, timeout=timeout,
            retire=lambda out: len(out[0]) > _RETIRE_AFTER_BYTES,
        )
    except WorkerTimeout:
        raise RenderTimeout(f"rendering {template} took longer than {timeout:g} s and was stopped") from None
    except (WorkerCrashed, WorkerJobFailed) as exc:
        raise RenderError(f"typst could not render {template}: {exc}") from None
    return result


class RenderTimeout(RenderError):
    """The document took longer to lay out than the render time limit."""


def _compile_here(
    template: str, data: dict[str, Any], pdf_standard: str | None, selector: str | None
) -> tuple[bytes, list[Any]]:
    inputs = {"data": json.dumps(data, ensure_ascii=False)}
    standards: list[Any] = [pdf_standard] if pdf_standard else []
    slot = _slot(template)
    found: Any = "[]"
    with slot.lock:
        try:
            pdf = slot.compiler.compile(format="pdf", sys_inputs=inputs, pdf_standards=standards)
            if selector is not None:
                found = slot.compiler.query(selector, field="value")
        except typst.TypstError as exc:
            raise RenderError(f"typst could not render {template}: {exc.message}\n{exc.diagnostic}") from exc
    if not isinstance(pdf, bytes):  # one PDF, never a list of pages
        raise RenderError(f"typst returned {type(pdf).__name__} instead of PDF bytes")
    values = json.loads(found) if isinstance(found, str) else found
    return pdf, list(values or [])
