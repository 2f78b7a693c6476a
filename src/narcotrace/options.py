"""Command-line options shared by every command (import at module level: Typer reads annotations)."""

from pathlib import Path
from typing import Annotated

import typer

DEFAULT_WS = Path("narcotrace-data")

WorkspaceOpt = Annotated[
    Path,
    typer.Option(
        "--workspace",
        "-w",
        envvar="NARCOTRACE_WORKSPACE",
        help="Workspace folder (DuckDB database + evidence/). Default ./narcotrace-data or $NARCOTRACE_WORKSPACE.",
        show_default=False,
    ),
]
