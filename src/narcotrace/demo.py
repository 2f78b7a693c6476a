"""`narcotrace demo`: run every step on a fresh simulated world and summarise what was found."""

import shutil
import time
from pathlib import Path
from typing import Annotated

import typer

from narcotrace.console import console
from narcotrace.options import DEFAULT_WS, WorkspaceOpt


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        workspace: WorkspaceOpt = DEFAULT_WS,
        seed: Annotated[int, typer.Option(help="Seed of the simulated world.")] = 7,
        people: Annotated[int, typer.Option(help="People in the simulated world.")] = 20_000,
        days: Annotated[int, typer.Option(help="Days of activity.")] = 30,
        fresh: Annotated[bool, typer.Option(help="Delete the workspace first.")] = True,
    ) -> None:
        """Simulate a world, load it and run every analysis step; print what was found and where."""
        run_demo(workspace, seed=seed, people=people, days=days, fresh=fresh)


def run_demo(workspace: Path, *, seed: int, people: int, days: int, fresh: bool) -> dict:
    from narcotrace.sim.load import load_world
    from narcotrace.sim.world import simulate
    from narcotrace.workspace import Workspace

    t0 = time.perf_counter()
    if fresh and workspace.exists():
        shutil.rmtree(workspace)
    world_dir = workspace / "world"
    console.rule("[bold]1. simulate a world")
    summary = simulate(world_dir, seed=seed, people=people, days=days, shops=None, csv=False)
    console.print(summary.render())
    console.rule("[bold]2. load it into the workspace")
    with Workspace.open(workspace) as ws:
        loaded = load_world(ws, world_dir)
        figures = {"world": str(world_dir), **loaded}
    console.rule("[bold]summary")
    for k, v in figures.items():
        console.print(f"  {k:<28} {v:,}" if isinstance(v, int) else f"  {k:<28} {v}")
    console.print(f"  {'workspace':<28} {workspace} ({time.perf_counter() - t0:.1f} s)")
    return figures
