"""Reading input files and writing output files for the command line, refusing bad paths in Thai and English."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from django.core.management.base import CommandError

BAD_INPUT = 2


def refuse(th: str, en: str, details: list[str] | None = None) -> CommandError:
    """A ``CommandError`` with exit code 2 and a Thai / English message (and detail lines)."""
    lines = [f"{th} / {en}", *[f"  - {d}" for d in details or []]]
    return CommandError("\n".join(lines), returncode=BAD_INPUT)


def read_input(path: Path) -> bytes:
    """The bytes of ``path``; a missing file, a folder or an unreadable file is refused (exit 2)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise refuse(f"ไม่พบไฟล์ {path}", f"File not found: {path}") from None
    except IsADirectoryError:
        raise refuse(f"{path} เป็นโฟลเดอร์ ไม่ใช่ไฟล์", f"{path} is a directory, not a file") from None
    except OSError as exc:
        raise refuse(f"อ่านไฟล์ {path} ไม่ได้", f"Cannot read {path}: {exc.strerror}") from None


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename: never a half-written file."""
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_name, 0o666 & ~umask)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
