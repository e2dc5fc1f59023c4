"""``saraban verify`` starts without Django's app registry: ``--help`` and bad options answer at once.

The command line runs ``verify`` without ``django.setup()`` (``saraban.cli.LIGHT_COMMANDS``); pyHanko is
imported only when a file is verified. These tests look at what a fresh interpreter imported, not at
the time it took.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROBE = """
import json, sys
from saraban.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
else:
    code = 0
from django.apps import apps
heavy = sorted({m.split(".")[0] if m.startswith("pyhanko") else ".".join(m.split(".")[:2])
                for m in sys.modules if m.startswith(("pyhanko", "saraban.correspondence", "saraban.web", "ninja"))})
print("PROBE" + json.dumps({"code": code, "apps_ready": apps.ready, "heavy": heavy}))
"""


def _probe(*args: str, home: Path) -> tuple[dict[str, object], subprocess.CompletedProcess[str]]:
    env = {**os.environ, "SARABAN_HOME": str(home)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL, timeout=120)
    line = next(line for line in done.stdout.splitlines() if line.startswith("PROBE"))
    return json.loads(line.removeprefix("PROBE")), done


def test_verify_help_loads_no_app_and_no_pyhanko(tmp_path: Path) -> None:
    seen, done = _probe("verify", "--help", home=tmp_path)
    assert seen == {"code": 0, "apps_ready": False, "heavy": []}, done.stderr
    assert "--offline" in done.stdout and "--trust" in done.stdout and "FILE" in done.stdout


def test_a_bad_option_is_refused_before_anything_heavy(tmp_path: Path) -> None:
    seen, done = _probe("verify", "--no-such-option", "x.pdf", home=tmp_path)
    assert seen == {"code": 2, "apps_ready": False, "heavy": []}
    assert "unrecognized arguments" in done.stderr


def test_verifying_still_needs_no_app_registry(tmp_path: Path) -> None:
    missing = tmp_path / "missing.pdf"
    seen, done = _probe("verify", str(missing), home=tmp_path)
    assert seen["code"] == 2 and seen["apps_ready"] is False
    assert "saraban.correspondence" not in seen["heavy"]  # type: ignore[operator]
    assert "File not found" in done.stderr and "Traceback" not in done.stderr


def test_saraban_help_verify_still_goes_through_django(tmp_path: Path) -> None:
    env = {**os.environ, "SARABAN_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "saraban", "help", "verify"], capture_output=True, text=True,
                          env=env, stdin=subprocess.DEVNULL, timeout=120)
    assert done.returncode == 0 and "--offline" in done.stdout, done.stderr
