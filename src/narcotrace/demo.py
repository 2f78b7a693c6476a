"""`narcotrace demo`: run every step on a fresh simulated world and summarise what was found."""

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from narcotrace.console import console
from narcotrace.errors import UserError
from narcotrace.options import DEFAULT_WS, WorkspaceOpt


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        workspace: WorkspaceOpt = DEFAULT_WS,
        seed: Annotated[int, typer.Option(help="Seed of the simulated world.")] = 7,
        people: Annotated[int, typer.Option(min=500, help="People in the simulated world.")] = 10_000,
        days: Annotated[int, typer.Option(min=7, help="Days of activity (laundering shapes need about a week).")] = 30,
        fresh: Annotated[bool, typer.Option(help="Delete the workspace first.")] = True,
    ) -> None:
        """Simulate a world, then scan, analyse, build channels, export and report; print what was found."""
        run_demo(workspace, seed=seed, people=people, days=days, fresh=fresh)


@dataclass
class DemoResult:
    """Key figures and output paths of a demo run."""

    figures: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Path] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def _step(result: DemoResult, n: int, title: str, fn: Callable[[], Any]) -> Any:
    console.rule(f"[bold]{n}. {title}")
    t0 = time.perf_counter()
    out = fn()
    result.timings[title] = time.perf_counter() - t0
    return out


def _show(report: Any) -> None:
    rendered = report.render() if hasattr(report, "render") else report
    if isinstance(rendered, list | tuple):
        for line in rendered:
            console.print(line)
    elif rendered is not None:
        console.print(rendered)


def run_demo(workspace: Path, *, seed: int, people: int, days: int, fresh: bool) -> DemoResult:
    from narcotrace.channels.build import build_channels, write_json
    from narcotrace.export.registry import load as load_exporter
    from narcotrace.money.analyze import analyze
    from narcotrace.money.ingest import ingest_paths
    from narcotrace.online.blocklist import write_blocklist
    from narcotrace.online.scan import scan_paths
    from narcotrace.report.builder import build_report
    from narcotrace.sim.world import simulate
    from narcotrace.workspace import Workspace

    t_start = time.perf_counter()
    result = DemoResult()
    if fresh and workspace.exists():
        shutil.rmtree(workspace)
    world = workspace / "world"
    outdir = workspace / "outputs"

    summary = _step(result, 1, "simulate a world", lambda: simulate(world, seed=seed, people=people, days=days,
                                                                     shops=None, csv=False))
    _show(summary)
    outdir.mkdir(parents=True, exist_ok=True)
    with Workspace.open(workspace) as ws:
        ws.audit("demo", str(workspace), {"seed": seed, "people": people, "days": days}, actor="demo")

        ing = _step(result, 2, "ingest accounts and transfers (money pillar)",
                    lambda: ingest_paths(ws, [world / "accounts.parquet", world / "transfers.parquet"]))
        _show(ing)

        scan_out = outdir / "scan.jsonl"
        scan = _step(result, 3, "scan the Telegram export (online pillar)",
                     lambda: scan_paths(ws, [world / "telegram" / "result.json"], fmt="telegram", out=scan_out))
        _show(scan)
        result.outputs["scan results"] = scan_out

        money = _step(result, 4, "analyse the money: features, typologies, scores, alerts",
                      lambda: analyze(ws, engine="duckdb"))
        _show(money)

        channels_out = outdir / "channels.json"

        def _channels() -> Any:
            rep = build_channels(ws)
            write_json(rep, channels_out)
            return rep

        chans = _step(result, 5, "build drug channels (ads joined to money)", _channels)
        _show(chans)
        result.outputs["channels"] = channels_out

        def _exports() -> dict[str, int]:
            written = {}
            for fmt, name in (("rpz", "blocklist.rpz"), ("hosts", "blocklist.hosts"), ("csv", "blocklist.csv"),
                              ("stix", "blocklist.stix.json")):
                written[f"blocklist {fmt}"] = write_blocklist(ws, fmt, outdir / name, proposed=True)
                result.outputs[f"blocklist ({fmt}, proposed)"] = outdir / name
            for fmt, name in (("freeze", "freeze.csv"), ("goaml", "str-goaml.xml"), ("ftm", "entities.ftm.jsonl"),
                              ("stix", "channels.stix.json"), ("graphml", "channels.graphml"),
                              ("gexf", "channels.gexf")):
                try:
                    n = load_exporter(fmt)(ws, outdir / name, proposed=True, channel=None, schema=None)
                except UserError as e:
                    # goAML needs the FIU's own XSD, which narcotrace does not ship: say so and go on
                    console.print(f"  [yellow]{fmt} skipped:[/] {e}", soft_wrap=True)
                    continue
                ws.audit("export", str(outdir / name), {"format": fmt, "records": n, "proposed": True}, actor="demo")
                written[fmt] = n
                result.outputs[f"{fmt} (proposed)"] = outdir / name
            return written

        written = _step(result, 6, "exports: blocklists, freeze list, goAML STR, FtM, STIX, GraphML, GEXF", _exports)
        for k, v in written.items():
            console.print(f"  {k:<16} {v:,} records")

        report_path = outdir / "report.html"
        _step(result, 7, "HTML report", lambda: build_report(ws, report_path))
        result.outputs["report"] = report_path

        con = ws.con
        f = result.figures
        f["transfers"] = ws.count("transfers")
        f["posts scanned"] = ws.count("posts")
        f["sale posts"] = con.execute("SELECT count(*) FROM posts WHERE label = 'sale'").fetchone()[0]
        f["recruitment posts"] = con.execute("SELECT count(*) FROM posts WHERE label = 'recruitment'").fetchone()[0]
        f["alerts"] = ws.count("alerts")
        f["drug channels"] = ws.count("channels")
        f["drop accounts in channels"] = con.execute(
            "SELECT count(DISTINCT member_id) FROM channel_members WHERE member_kind = 'account' AND role = 'drop'"
        ).fetchone()[0]
        f["drug money in channels (KZT)"] = round(float(con.execute(
            "SELECT coalesce(sum(total_volume), 0) FROM channels").fetchone()[0]))
        f["blocklist entries (proposed)"] = written.get("blocklist csv", 0)
        f["freeze list rows (proposed)"] = written.get("freeze", 0)

    elapsed = time.perf_counter() - t_start
    console.rule("[bold]what the demo found")
    t = Table(show_header=False, box=None)
    for k, v in result.figures.items():
        t.add_row(k, f"{v:,}" if isinstance(v, int | float) else str(v))
    console.print(t)
    console.print("[bold]outputs[/] (blocking and freezing are proposals until an analyst approves them):")
    for k, p in result.outputs.items():
        console.print(f"  {k:<28} {p}")
    console.print(f"  {'workspace':<28} {workspace}  (query it with any DuckDB client: {workspace}/narcotrace.duckdb)")
    console.print(f"done in {elapsed:.0f} s: " + ", ".join(f"{k.split(' (')[0]} {v:.0f}s" for k, v in result.timings.items()))
    return result
