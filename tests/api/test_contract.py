"""The API keeps its own contract: Schemathesis against a live server of the demo data (issue 16).

A real deployment (``tests.exchange.deployments``: its own home, the suite's database kind, ``saraban
serve`` with its worker) is loaded with the demo (``load_demo``, a few letters per organisation). For
the tokens of four roles (registry clerk, drafter, signer, administrator) Schemathesis (``st run``,
pinned in uv.lock) generates requests from ``/api/openapi.json`` with a fixed seed and bounded
examples, in every phase (examples, coverage, fuzzing, and the stateful phase along the document's
links: create a letter, then act on it), with ``--checks all``. Any failure fails the test, with
Schemathesis's report (the curl of each failing request) in the message.

Revoking tokens (``DELETE /api/tokens/{token_id}``) runs last and on its own, so that no run revokes
the token the next one uses. ``tests/api/schemathesis.toml`` holds the one setting changed from
Schemathesis's defaults: 422 (well-formed input a rule of the Regulation refuses, where no schema
can say so) is an accepted answer to schema-valid input; 400 is not.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.exchange.deployments import Deployment, Kind

CONFIG = Path(__file__).with_name("schemathesis.toml")
ST = Path(sys.executable).with_name("st")
SEED = 20261207
MAX_EXAMPLES = 5
ROLES = ("registry", "officer", "signer", "admin")  # the demo's opm.<role> people
DELETE_TOKEN = "saraban_api_routers_tokens_delete_token"

pytestmark = pytest.mark.timeout(1800)


def _kind() -> Kind:
    return "postgres" if os.environ.get("SARABAN_DATABASE_URL", "").startswith("postgres") else "sqlite"


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[Deployment, dict[str, str]]]:
    """A running deployment of the demo data, and an API token per role."""
    deployment = Deployment("contract", kind=_kind())
    try:
        deployment.create_database()
        deployment.manage("load_demo", "--letters-per-org", "3", timeout=1200)
        tokens = {}
        for role in ROLES:
            made = deployment.manage("api_token", "create", "--user", f"opm.{role}", "--name", "schemathesis")
            found = re.search(r"srb_[A-Za-z0-9_-]+", made.stdout)
            assert found, made.stdout
            tokens[role] = found.group(0)
        deployment.start()
        yield deployment, tokens
    finally:
        deployment.destroy()


def schemathesis(deployment: Deployment, token: str, *selection: str) -> subprocess.CompletedProcess[str]:
    """``st run`` against ``deployment`` as the token's owner: every check, fixed seed, bounded examples."""
    return subprocess.run(
        [str(ST), "--config-file", str(CONFIG), "run", f"{deployment.direct_url}/api/openapi.json",
         "--checks", "all", "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED),
         "--request-timeout", "60", "--no-color", "-H", f"Authorization: Bearer {token}", *selection],
        capture_output=True, text=True, timeout=1500, stdin=subprocess.DEVNULL,
        cwd=deployment.home,  # its cache (.schemathesis/) stays with the deployment
    )


def _report(done: subprocess.CompletedProcess[str]) -> str:
    """What Schemathesis found, without the progress lines: the failures and the summary."""
    text = done.stdout + done.stderr
    start = text.find("=== FAILURES ===")
    return text[start - 40:][-12000:] if start >= 0 else text[-6000:]


def _generated(done: subprocess.CompletedProcess[str]) -> int:
    found = re.search(r"(\d+) generated", done.stdout)
    return int(found.group(1)) if found else 0


@pytest.mark.parametrize("role", ROLES)
def test_the_api_does_what_its_document_says(demo: tuple[Deployment, dict[str, str]], role: str) -> None:
    """Every operation but revoking tokens, as this role: no failure of any check, no server error."""
    deployment, tokens = demo
    done = schemathesis(deployment, tokens[role], "--exclude-operation-id", DELETE_TOKEN)
    assert done.returncode == 0, f"Schemathesis as opm.{role}:\n{_report(done)}"
    assert _generated(done) > 500, f"too few cases were generated:\n{done.stdout[-3000:]}"
    assert "Server error" not in done.stdout


def test_revoking_tokens_keeps_the_contract_too(demo: tuple[Deployment, dict[str, str]]) -> None:
    """Creating and revoking tokens, last (a revoked token would stop the runs after it)."""
    deployment, tokens = demo
    done = schemathesis(deployment, tokens["admin"], "--include-path-regex", "^/api/tokens")
    assert done.returncode == 0, f"Schemathesis on /api/tokens:\n{_report(done)}"
    assert _generated(done) > 20, done.stdout[-3000:]
