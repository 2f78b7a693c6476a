"""`narcotrace ingest`: transfer files (and `ingest accounts FILE` for account registries) into the workspace."""

from pathlib import Path
from typing import Annotated

import typer

from narcotrace.console import console
from narcotrace.options import DEFAULT_WS, WorkspaceOpt


def register(app: typer.Typer) -> None:
    @app.command()
    def ingest(
        paths: Annotated[list[Path], typer.Argument(
            help="Transfer files or folders (CSV, Parquet, XML). Start with the word `accounts` to load an "
                 "account registry (CSV/Parquet: account_id, bank, holder, card, phone, iban, ...).",
            show_default=False)],
        format: Annotated[str, typer.Option(
            "--format", "-f",
            help="auto | canonical | ibm | amlsim | pacs008 | camt053 | mapped (auto: from header/XML root)."
        )] = "auto",
        mapping: Annotated[Path | None, typer.Option(
            "--mapping", "-m", help="YAML mapping for --format mapped (column names, date format, decimal comma); "
            "a shipped example by name: kaspi_statement.yaml, halyk_statement.yaml, signed_statement.yaml.",
            dir_okay=False)] = None,
        rates: Annotated[Path | None, typer.Option(
            "--rates", help="YAML of exchange rates into KZT (default: the static reference table shipped).",
            exists=True, dir_okay=False)] = None,
        workspace: WorkspaceOpt = DEFAULT_WS,
    ) -> None:
        """Read transfers into the workspace; print read = stored + quarantined + duplicates per file."""
        from narcotrace.money.ingest import ingest_accounts, ingest_paths
        from narcotrace.workspace import Workspace

        with Workspace.open(workspace) as ws:
            if paths and str(paths[0]) == "accounts":
                if len(paths) < 2:
                    raise typer.BadParameter("`ingest accounts` needs a FILE", param_hint="PATHS")
                report = ingest_accounts(ws, paths[1:], fmt=format)
            else:
                report = ingest_paths(ws, paths, fmt=format, mapping=mapping, rates=rates)
            console.print(report.render())
