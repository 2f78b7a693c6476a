"""The `narcotrace` command line: a thin Typer app; each command calls one function of a pillar."""

import sys
from pathlib import Path
from typing import Annotated

import typer
from typer._click import ClickException  # typer 0.29 vendors click

from narcotrace import __version__
from narcotrace.console import console, err_console
from narcotrace.errors import UserError
from narcotrace.options import DEFAULT_WS, WorkspaceOpt

app = typer.Typer(
    name="narcotrace",
    help="Find online drug shops and follow their money.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)



def _version(value: bool) -> None:
    if value:
        console.print(f"narcotrace {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """narcotrace: find online drug shops and follow their money."""


@app.command()
def info(workspace: WorkspaceOpt = DEFAULT_WS) -> None:
    """List the workspace's tables and their row counts."""
    from rich.table import Table

    from narcotrace.workspace import Workspace

    with Workspace.open(workspace, create=False) as ws:
        t = Table(title=f"workspace {ws.root} (schema v{ws.schema_version()})")
        t.add_column("table")
        t.add_column("rows", justify="right")
        for name, n in ws.table_counts():
            t.add_row(name, f"{n:,}")
        console.print(t)


def _register_pillars() -> None:
    # Each pillar keeps its commands beside its code; importing here keeps cli.py thin.
    from narcotrace.sim import cli as sim_cli
    from narcotrace import demo

    sim_cli.register(app)
    demo.register(app)
    for module in (
        "narcotrace.online.cli",  # scan, train
        "narcotrace.online.cli_admin",  # crawl, review, blocklist
        "narcotrace.money.cli_ingest",  # ingest
        "narcotrace.money.cli",  # analyze, alerts, trace, train-money
        "narcotrace.export.registry",  # export
        "narcotrace.channels.cli",  # channels, report
        "narcotrace.report.cli",  # report
    ):
        try:
            mod = __import__(module, fromlist=["register"])
        except ModuleNotFoundError as e:
            if e.name != module:
                raise
            continue
        mod.register(app)


_register_pillars()


def main(argv: list[str] | None = None) -> None:
    """Entry point: user errors become one red line and exit code 1, never a traceback."""
    try:
        rv = app(args=argv, standalone_mode=False)
    except UserError as e:
        err_console.print(f"[bold red]error:[/] {e}", soft_wrap=True)
        sys.exit(1)
    except typer.Abort:
        err_console.print("[red]aborted[/]")
        sys.exit(1)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        err_console.print("[red]interrupted[/]")
        sys.exit(130)
    sys.exit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":
    main()
