"""What child processes this test process has: for the no-stray-child checks."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Child:
    """A child process: its pid, state letter (``Z`` for a zombie) and command line."""

    pid: int
    state: str
    cmdline: str


def children(of: int | None = None) -> list[Child]:
    """The direct children of ``of`` (default: this process), read from ``/proc``."""
    parent = os.getpid() if of is None else of
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")"
        state, ppid = stat[stat.rindex(")") + 2:].split()[:2]
        if int(ppid) == parent:
            found.append(Child(int(entry.name), state, cmdline))
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"
