"""Shared fixtures: a fresh workspace per test and a way to run the CLI in-process."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("NARCOTRACE_QUIET", "1")

SHARED_FORMATS = Path(__file__).resolve().parents[2] / "shared" / "formats"

# report_world.py: the hand-made workspace shared by the export and report tests.
sys.path.insert(0, str(Path(__file__).resolve().parent / "report"))


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def run_cli(capsys):
    """Run `narcotrace ARGS...` in-process through the real entry point (error handling included)."""
    from narcotrace.cli import main

    def run(*args: str) -> CliResult:
        code = 0
        try:
            main([str(a) for a in args])
        except SystemExit as e:
            code = int(e.code or 0)
        out = capsys.readouterr()
        return CliResult(code, out.out, out.err)

    return run


@pytest.fixture
def workspace(tmp_path):
    from narcotrace.workspace import Workspace

    ws = Workspace.open(tmp_path / "ws")
    yield ws
    ws.close()


@pytest.fixture
def shared_formats() -> Path:
    if not SHARED_FORMATS.is_dir():
        pytest.skip(f"../shared/formats not found at {SHARED_FORMATS}: real-format samples unavailable")
    return SHARED_FORMATS


@pytest.fixture
def ws_path(workspace):
    """A closed workspace holding the hand-made findings world of tests/report/report_world.py."""
    from report_world import build_world

    build_world(workspace)
    path = workspace.root
    workspace.close()
    return path
