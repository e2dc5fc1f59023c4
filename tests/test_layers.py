"""The import contract (``[tool.importlinter]`` in pyproject.toml): it holds, it names every module of
``saraban``, and it fails on an upward import or a cycle (checked on a copy of the source)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _contracts() -> list[dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return config["tool"]["importlinter"]["contracts"]


def _layered_modules() -> set[str]:
    layers = next(c for c in _contracts() if c["type"] == "layers")["layers"]
    assert isinstance(layers, list)
    return {name.strip().removeprefix("saraban.") for layer in layers for name in layer.replace(":", "|").split("|")}


def _lint(src: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=cwd, env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=120,
    )


@pytest.fixture
def copy_of_the_source(tmp_path: Path) -> Path:
    """The ``saraban`` package's Python files and pyproject.toml, in ``tmp_path``."""
    shutil.copytree(ROOT / "src" / "saraban", tmp_path / "src" / "saraban",
                    ignore=lambda folder, names: [n for n in names if n.endswith((".pyc", ".typ", ".ttf", ".otf"))
                                                  or n in ("node_modules", "static", "templates", "__pycache__")])
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_every_top_level_module_has_a_layer() -> None:
    package = ROOT / "src" / "saraban"
    modules = {p.stem for p in package.glob("*.py") if p.stem != "__init__"}
    modules |= {p.name for p in package.iterdir() if (p / "__init__.py").exists()}
    assert modules == _layered_modules()


def test_the_contract_holds() -> None:
    result = _lint(ROOT / "src", ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_upward_import_breaks_the_contract(copy_of_the_source: Path) -> None:
    helper = copy_of_the_source / "src" / "saraban" / "signatures" / "probe.py"
    helper.write_text("def letters() -> object:\n    from saraban.correspondence.models import Letter\n\n"
                      "    return Letter\n", encoding="utf-8")
    result = _lint(copy_of_the_source / "src", copy_of_the_source)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "saraban.signatures is not allowed to import saraban.correspondence" in result.stdout
    assert "saraban.signatures.probe -> saraban.correspondence.models" in result.stdout


def test_a_cycle_inside_an_app_breaks_the_contract(copy_of_the_source: Path) -> None:
    app = copy_of_the_source / "src" / "saraban" / "registers"
    (app / "probe_a.py").write_text("from . import probe_b  # noqa: F401\n", encoding="utf-8")
    (app / "probe_b.py").write_text("from . import probe_a  # noqa: F401\n", encoding="utf-8")
    result = _lint(copy_of_the_source / "src", copy_of_the_source)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "No cycles are allowed in saraban.registers" in result.stdout
