"""`narcotrace export --format F`: one command, one module per format under export/."""

from pathlib import Path
from typing import Annotated, Protocol

import typer

from narcotrace.console import console
from narcotrace.errors import UserError
from narcotrace.options import DEFAULT_WS, WorkspaceOpt


class Exporter(Protocol):
    def __call__(self, ws, out: Path, *, proposed: bool, channel: str | None, schema: Path | None) -> int:
        """Write the export to `out`; return the number of records written."""


# format name -> "module:function"; modules are imported only when used.
EXPORTERS: dict[str, str] = {
    "freeze": "narcotrace.export.freeze:export",
    "goaml": "narcotrace.export.goaml:export",
    "ftm": "narcotrace.export.ftm:export",
    "stix": "narcotrace.export.stix:export",
    "graphml": "narcotrace.export.graph:export_graphml",
    "gexf": "narcotrace.export.graph:export_gexf",
}


def load(fmt: str) -> Exporter:
    if fmt not in EXPORTERS:
        raise UserError(f"--format {fmt}: unknown; choose one of {', '.join(EXPORTERS)}")
    module, func = EXPORTERS[fmt].split(":")
    try:
        mod = __import__(module, fromlist=[func])
    except ModuleNotFoundError as e:
        if e.name == module:
            raise UserError(f"--format {fmt}: not available in this version") from e
        raise
    return getattr(mod, func)


def register(app: typer.Typer) -> None:
    @app.command()
    def export(
        format: Annotated[str, typer.Option("--format", "-f", help=f"One of: {', '.join(EXPORTERS)}.")],
        out: Annotated[Path, typer.Option("--out", "-o", help="File to write.")],
        proposed: Annotated[bool, typer.Option("--proposed", help="Include unreviewed items (marked as proposed), not only approved ones.")] = False,
        channel: Annotated[str | None, typer.Option("--channel", help="Only this drug channel.")] = None,
        schema: Annotated[Path | None, typer.Option("--schema", help="goAML: the FIU's XSD to validate against.")] = None,
        workspace: WorkspaceOpt = DEFAULT_WS,
    ) -> None:
        """Export findings: freeze list, goAML STR, FollowTheMoney, STIX 2.1, GraphML, GEXF."""
        from narcotrace.workspace import Workspace

        exporter = load(format)
        with Workspace.open(workspace, create=False) as ws:
            n = exporter(ws, out, proposed=proposed, channel=channel, schema=schema)
            ws.audit("export", str(out), {"format": format, "records": n, "proposed": proposed, "channel": channel})
        console.print(f"wrote {n:,} records to {out} ({format})")
