"""Commands of the online pillar that read posts: `scan` (classify, extract, store) and `train` (the classifier)."""

from pathlib import Path
from typing import Annotated

import typer

from narcotrace.console import console, err_console
from narcotrace.options import DEFAULT_WS, WorkspaceOpt

FORMAT_HELP = "Input format: auto (by name and content), jsonl, csv, telegram (result.json), html, warc."


def register(app: typer.Typer) -> None:
    @app.command()
    def scan(
        inputs: Annotated[list[Path], typer.Argument(help="Files or folders of posts.", show_default=False)],
        format: Annotated[str, typer.Option("--format", "-f", help=FORMAT_HELP)] = "auto",
        out: Annotated[Path | None, typer.Option("--out", "-o", help="Also write one JSON line per post here.")] = None,
        lexicon: Annotated[list[Path] | None, typer.Option(
            "--lexicon", help="Extra lexicon YAML file (same schema as online/lexicon/ru.yaml); repeatable.")] = None,
        threshold: Annotated[float | None, typer.Option(
            help="Score from which a post is labelled sale/recruitment (default: the model's, chosen by CV).",
            min=0.0, max=1.0)] = None,
        model: Annotated[Path | None, typer.Option(help="Model file from `narcotrace train` (default: shipped).")] = None,
        workers: Annotated[int | None, typer.Option(min=1, help="Worker processes (default: up to 2).")] = None,
        workspace: WorkspaceOpt = DEFAULT_WS,
    ) -> None:
        """Classify posts (sale / recruitment / none), extract their indicators, store them in the workspace."""
        from narcotrace.online.scan import scan_paths
        from narcotrace.workspace import Workspace

        with Workspace.open(workspace) as ws:
            report = scan_paths(ws, inputs, fmt=format, out=out, lexicons=lexicon or (), threshold=threshold,
                                model_path=model, workers=workers)
        for line in report.render():
            console.print(line, markup=False)

    @app.command()
    def train(
        include_decisions: Annotated[bool, typer.Option(
            "--include-decisions/--no-include-decisions",
            help="Also learn from analysts' review decisions stored in the workspace.")] = True,
        sim_world: Annotated[list[Path] | None, typer.Option(
            "--sim-world", help="A simulated world (`narcotrace simulate --out DIR`) whose posts to add; repeatable.")] = None,
        posts: Annotated[list[Path] | None, typer.Option(
            "--posts", help="Extra labelled JSONL posts (id, text, label); repeatable.")] = None,
        out: Annotated[Path | None, typer.Option(
            "--out", "-o", help="Model file to write (default: narcotrace/models/post-classifier-VERSION.joblib).")] = None,
        workspace: WorkspaceOpt = DEFAULT_WS,
    ) -> None:
        """Retrain the post classifier from the training posts (+ simulator posts, + review decisions)."""
        from narcotrace.online.train import train as run_train
        from narcotrace.workspace import Workspace

        decisions: list[tuple[str, str, str]] = []
        if include_decisions:
            if (Path(workspace) / "narcotrace.duckdb").exists():
                from narcotrace.online.review import decisions_for_training

                with Workspace.open(workspace, create=False) as ws:
                    decisions = decisions_for_training(ws)
            else:
                err_console.print(f"no workspace at {workspace}: training without review decisions")
        report = run_train(out, sim_worlds=sim_world or (), decisions=decisions, extra_posts=posts or (),
                           step=lambda s: err_console.print(s))
        if decisions and (Path(workspace) / "narcotrace.duckdb").exists():
            with Workspace.open(workspace, create=False) as ws:
                ws.audit("train", str(report.path), {"version": report.version, "decisions": len(decisions),
                                                     "cv": report.cv, "threshold": report.threshold})
        for line in report.render():
            console.print(line, markup=False)
