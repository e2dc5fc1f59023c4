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


@dataclass(frozen=True)
class Process:
    """A process as ``/proc`` shows it."""

    pid: int
    state: str
    ppid: int
    pgid: int
    cmdline: str


def processes() -> list[Process]:
    """Every process of this machine, read from ``/proc`` (those that vanish while read are skipped)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so split after the last ")"
            state, ppid, pgid = stat[stat.rindex(")") + 2:].split()[:3]
            found.append(Process(int(entry.name), state, int(ppid), int(pgid), cmdline))
        except (OSError, ValueError):
            continue
    return found


def children(of: int | None = None) -> list[Child]:
    """The direct children of ``of`` (default: this process)."""
    parent = os.getpid() if of is None else of
    return [Child(p.pid, p.state, p.cmdline) for p in processes() if p.ppid == parent]


def group_members(pgid: int) -> list[tuple[int, str]]:
    """The live (not zombie) processes of process group ``pgid``: (pid, command line)."""
    return [(p.pid, p.cmdline) for p in processes() if p.pgid == pgid and p.state != "Z"]


def alive(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"
