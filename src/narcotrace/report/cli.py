"""`narcotrace report`: write the self-contained HTML report of the findings (one channel with --channel)."""

from pathlib import Path
from typing import Annotated

import typer

from narcotrace.console import console
from narcotrace.options import DEFAULT_WS, WorkspaceOpt


def register(app: typer.Typer) -> None:
    @app.command()
    def report(
        out: Annotated[Path, typer.Option("--out", "-o", help="HTML file to write (one file, works offline).")],
        channel: Annotated[str | None, typer.Option("--channel", help="Only this drug channel (its id).")] = None,
        workspace: WorkspaceOpt = DEFAULT_WS,
    ) -> None:
        """Write the HTML report: key figures, charts, each channel's graph and the evidence."""
        from narcotrace.report.builder import build_report
        from narcotrace.workspace import Workspace

        with Workspace.open(workspace, create=False) as ws:
            path = build_report(ws, out, channel=channel)
        console.print(f"wrote the report to {path} ({path.stat().st_size / 1024:,.0f} KiB)")
