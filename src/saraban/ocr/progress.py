"""An OCRmyPDF plugin that reports progress as lines on standard error, for the parent process.

OCRmyPDF runs in a child process (``reading.py``); this plugin, loaded there with ``--plugin``, writes
one line per update: ``SARABAN-PROGRESS {"step": "OCR", "done": 2, "total": 5}``. It must not import
Django: the child process has no settings.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from ocrmypdf import hookimpl

MARK = "SARABAN-PROGRESS "


class LineProgress:
    """OCRmyPDF's ProgressBar protocol, printing each step's progress on standard error."""

    def __init__(self, *, total: float | None = None, desc: str | None = None, unit: str | None = None,
                 disable: bool = False, **_: Any) -> None:
        self.total, self.step, self.unit, self.done = total, desc or "", unit or "", 0.0

    def __enter__(self) -> LineProgress:
        self._emit()
        return self

    def __exit__(self, *_: object) -> None:
        self._emit()

    def update(self, n: float = 1, *, completed: float | None = None) -> None:
        """Record ``n`` more units of work done (or ``completed`` in all)."""
        self.done = completed if completed is not None else self.done + n
        self._emit()

    def _emit(self) -> None:
        line = {"step": self.step, "unit": self.unit, "done": self.done, "total": self.total}
        sys.stderr.write(MARK + json.dumps(line, ensure_ascii=False) + "\n")
        sys.stderr.flush()


@hookimpl
def get_progressbar_class() -> type[LineProgress]:
    """OCRmyPDF's hook: progress goes to ``LineProgress``."""
    return LineProgress
