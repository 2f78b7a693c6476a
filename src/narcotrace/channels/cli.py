"""`narcotrace channels`: build drug channels from scanned posts and analysed transfers.

`register(app)` adds the command; other channel commands are added beside it, each as its own function.
"""

from pathlib import Path
from typing import Annotated

import typer

from narcotrace.console import console
from narcotrace.options import DEFAULT_WS, WorkspaceOpt


def register(app: typer.Typer) -> None:
    @app.command()
    def channels(
        out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the channels to FILE.json "
                                                 "({\"channels\": [...]}, one object per channel).")] = None,
        min_confidence: Annotated[float, typer.Option(min=0.0, max=1.0, help="Keep channels at least this "
                                                      "confident (0..1).")] = 0.0,
        params: Annotated[Path | None, typer.Option(help="YAML overriding the builder's parameters "
                                                    "(defaults: src/narcotrace/channels/channels.yaml).",
                                                    exists=True, dir_okay=False)] = None,
        workspace: WorkspaceOpt = DEFAULT_WS,
    ) -> None:
        """Join shops' ads with their money: posts clustered into shops, then drops, collectors, exchangers
        and cash-out points, with the drug money attributed to each channel."""
        from narcotrace.channels.build import build_channels
        from narcotrace.workspace import Workspace

        with Workspace.open(workspace) as ws:
            report = build_channels(ws, min_confidence=min_confidence, params=params, out=out)
        console.print(report.render())
