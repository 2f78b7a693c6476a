"""`narcotrace simulate`: write a synthetic, fully labelled world."""

from pathlib import Path
from typing import Annotated

import typer

from narcotrace.console import console


def register(app: typer.Typer) -> None:
    @app.command()
    def simulate(
        out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the world into.")],
        seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same world.")] = 1,
        people: Annotated[int, typer.Option(min=50, help="Number of people (businesses are added in proportion).")] = 20_000,
        days: Annotated[int, typer.Option(min=1, max=3650, help="Days of activity.")] = 30,
        shops: Annotated[int | None, typer.Option(min=1, help="Number of drug shops (default: by population).")] = None,
        csv: Annotated[bool, typer.Option("--csv", help="Also write CSV copies of every table.")] = False,
    ) -> None:
        """Write a synthetic, fully labelled world: posts, Telegram export, accounts, transfers, truth."""
        from narcotrace.sim.world import simulate as run

        summary = run(out, seed=seed, people=people, days=days, shops=shops, csv=csv)
        console.print(summary.render())
