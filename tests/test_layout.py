"""The layout holds: import boundaries are enforced, and the distribution installs only its own
two packages (no top-level ``compiler``)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
BIN = Path(sys.executable).parent


def lint_imports(source_root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "lint-imports"), "--no-cache", "--config", str(ROOT / "pyproject.toml")],
        env={"PYTHONPATH": str(source_root), "PATH": "/usr/bin:/bin"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_the_import_boundaries_hold() -> None:
    result = lint_imports(ROOT / "compiler")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("sfn_mcp/ir/build.py", "import click", "Only the command line imports click"),
        ("sfn_mcp/models/generate.py", "import sfn_mcp.render", "Stages import only from upstream"),
        ("sfn_mcp/render/render.py", "import sfn_mcp_runtime.server", "reads only the runtime"),
        ("sfn_mcp_runtime/execution.py", "import sfn_mcp.naming", "The runtime stands alone"),
    ],
)
def test_a_violation_fails_the_lint(tmp_path: Path, module: str, line: str, contract: str) -> None:
    copy = tmp_path / "compiler"
    shutil.copytree(ROOT / "compiler", copy, ignore=shutil.ignore_patterns("__pycache__"))
    path = copy / module
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}  # noqa\n", encoding="utf-8")
    result = lint_imports(copy)
    assert result.returncode != 0
    assert contract in result.stdout and "BROKEN" in result.stdout


@pytest.mark.integration
def test_the_wheel_installs_no_top_level_compiler_package(tmp_path: Path) -> None:
    """A fresh virtualenv, sfn-mcp's wheel, and a stray ``compiler`` package beside it."""
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(wheels),
            str(ROOT),
        ],
        check=True,
        timeout=300,
    )
    (wheel,) = wheels.glob("sfn_mcp-*.whl")
    listing = subprocess.run(
        [sys.executable, "-m", "zipfile", "-l", str(wheel)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    tops = {line.split()[0].split("/")[0] for line in listing.splitlines()[1:] if line.strip()}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"sfn_mcp", "sfn_mcp_runtime"}

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(wheel)], check=True, timeout=600
    )
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    assert not (site / "compiler").exists()
    stray = site / "compiler"  # what another distribution of that name installs
    stray.mkdir()
    (stray / "__init__.py").write_text("raise ImportError('the other compiler package')\n")
    for command in ([str(env_dir / "bin" / "sfn-mcp")], [str(python), "-m", "sfn_mcp"]):
        result = subprocess.run(
            [*command, "--version"], capture_output=True, text=True, check=False, timeout=60
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().startswith("sfn-mcp, version ")
    generate_help = subprocess.run(
        [str(env_dir / "bin" / "sfn-mcp"), "generate", "--help"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert generate_help.returncode == 0 and "--schema-tag-key" in generate_help.stdout
