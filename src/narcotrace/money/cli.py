"""Money commands: analyze, alerts (list, show, set status), trace, train-money."""

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from narcotrace.console import console
from narcotrace.errors import UserError
from narcotrace.options import DEFAULT_WS, WorkspaceOpt


def _when(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError as e:
        raise UserError(f"{option} {value}: not a date/time; use ISO 8601, e.g. 2026-03-01 or 2026-03-01T14:00") from e


def register(app: typer.Typer) -> None:
    @app.command()
    def analyze(
        engine: Annotated[str, typer.Option(help="Where to compute: duckdb (default) or spark.")] = "duckdb",
        rules_only: Annotated[bool, typer.Option("--rules-only", help="Score with transparent rules, no model.")] = False,
        model: Annotated[Path | None, typer.Option(help="Model file or folder (default: the shipped model).")] = None,
        typologies: Annotated[Path | None, typer.Option(help="YAML file overriding typology parameters.")] = None,
        min_score: Annotated[float | None, typer.Option(min=0.0, max=1.0, help="Alert accounts scoring at least this (default: the threshold on the model's card; 0.5 with --rules-only).")] = None,
        workspace: WorkspaceOpt = DEFAULT_WS,
    ) -> None:
        """Find laundering shapes, score every account, and raise alerts (reviewed alerts are kept)."""
        from narcotrace.money.analyze import analyze as run
        from narcotrace.workspace import Workspace

        with Workspace.open(workspace, create=False) as ws:
            report = run(ws, engine=engine, rules_only=rules_only, model_path=model, typology_params=typologies,
                         min_score=min_score)
        console.print(report.render())

    alerts_app = typer.Typer(help="List alerts, show one with its history, or change its status.",
                             invoke_without_command=True, no_args_is_help=False)

    @alerts_app.callback()
    def alerts(
        ctx: typer.Context,
        status: Annotated[str | None, typer.Option(help="Only alerts with this status: new, in_review, confirmed, dismissed.")] = None,
        min_score: Annotated[float, typer.Option(min=0.0, max=1.0, help="Only alerts scoring at least this.")] = 0.0,
        limit: Annotated[int | None, typer.Option(min=1, help="At most this many (highest score first).")] = None,
        out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to FILE.csv (lists joined with ';') or FILE.jsonl.")] = None,
        workspace: WorkspaceOpt = DEFAULT_WS,
    ) -> None:
        """List alerts, highest score first (sub-commands: show, set)."""
        if ctx.invoked_subcommand is not None:
            return
        from rich.table import Table

        from narcotrace.money import alerts as al
        from narcotrace.workspace import Workspace

        with Workspace.open(workspace, create=False) as ws:
            rows = al.list_alerts(ws, status=status, min_score=min_score, limit=limit)
        if out is not None:
            al.write_alerts(rows, out)
            console.print(f"wrote {len(rows):,} alerts to {out}")
            return
        t = Table(title=f"{len(rows):,} alerts")
        for c in ("alert", "account", "score", "role", "typologies", "status"):
            t.add_column(c)
        for r in rows[:200]:
            t.add_row(r["alert_id"], r["account_id"], f"{r['score']:.2f}", r["role"], ", ".join(r["typologies"]),
                      r["status"])
        console.print(t)
        if len(rows) > 200:
            console.print(f"… {len(rows) - 200:,} more; use --out FILE.csv for all")

    @alerts_app.command("show")
    def alerts_show(alert_id: Annotated[str, typer.Argument(help="Alert id, e.g. AL-1a2b3c4d5e6f.")],
                    workspace: WorkspaceOpt = DEFAULT_WS) -> None:
        """One alert: reasons, evidence and its review history."""
        from narcotrace.money import alerts as al
        from narcotrace.workspace import Workspace

        with Workspace.open(workspace, create=False) as ws:
            rows = [r for r in al.list_alerts(ws) if r["alert_id"] == alert_id]
            if not rows:
                raise UserError(f"alert {alert_id}: no such alert; list them with `narcotrace alerts`")
            history = al.events(ws, alert_id)
        r = rows[0]
        console.print(f"[bold]{r['alert_id']}[/] account [cyan]{r['account_id']}[/] score {r['score']:.2f} "
                      f"role {r['role']} status {r['status']} ({r['model_version']})")
        for reason in r["reasons"]:
            console.print(f"  • {reason}")
        console.print(f"  evidence: {', '.join(r['evidence_transfer_ids'][:20])}"
                      + (" …" if len(r["evidence_transfer_ids"]) > 20 else ""))
        for e in history:
            console.print(f"  {e['at']:%Y-%m-%d %H:%M} {e['actor']}: {e['from_status']} → {e['to_status']} ({e['reason']})")

    @alerts_app.command("set")
    def alerts_set(
        alert_id: Annotated[str, typer.Argument(help="Alert id, e.g. AL-1a2b3c4d5e6f.")],
        status: Annotated[str, typer.Option(help="in_review, confirmed or dismissed.")],
        reason: Annotated[str, typer.Option(help="Why (stored with the decision).")],
        by: Annotated[str | None, typer.Option(help="Who decides (default $NARCOTRACE_USER or $USER).")] = None,
        workspace: WorkspaceOpt = DEFAULT_WS,
    ) -> None:
        """Change an alert's status (new → in_review → confirmed | dismissed), recording who, when and why."""
        from narcotrace.money import alerts as al
        from narcotrace.workspace import Workspace

        with Workspace.open(workspace, create=False) as ws:
            ev = al.set_status(ws, alert_id, status, reason, by)
        console.print(f"{ev['alert_id']}: {ev['from']} → {ev['to']} by {ev['by']} ({ev['reason']})")

    app.add_typer(alerts_app, name="alerts")

    @app.command()
    def trace(
        account: Annotated[str, typer.Argument(help="Account id as in the transfers.")],
        backward: Annotated[bool, typer.Option("--backward", help="Trace where the money came from.")] = False,
        hops: Annotated[int, typer.Option(min=1, max=20, help="Most hops to follow.")] = 6,
        since: Annotated[str | None, typer.Option(help="Start from transfers at or after this time (ISO 8601, UTC).")] = None,
        until: Annotated[str | None, typer.Option(help="Follow transfers up to this time (ISO 8601, UTC).")] = None,
        fifo: Annotated[bool, typer.Option("--fifo", help="Attribute first-in-first-out instead of proportionally.")] = False,
        min_amount: Annotated[float, typer.Option(help="Stop following amounts smaller than this.")] = 1.0,
        max_frontier: Annotated[int, typer.Option(min=1, help="Follow at most this many accounts per hop (largest first).")] = 500,
        out: Annotated[Path | None, typer.Option("--out", "-o", help="Also write the trail as JSON.")] = None,
        workspace: WorkspaceOpt = DEFAULT_WS,
    ) -> None:
        """Follow money hop by hop in time order to cash-out points, exchangers and foreign banks."""
        from narcotrace.money import trace as tr
        from narcotrace.workspace import Workspace

        with Workspace.open(workspace, create=False) as ws:
            result = tr.trace(ws, account, backward=backward, hops=hops, since=_when(since, "--since"),
                              until=_when(until, "--until"), fifo=fifo, min_amount=min_amount,
                              max_frontier=max_frontier)
            ws.audit("trace", account, {"backward": backward, "hops": hops, "fifo": fifo,
                                        "start_amount": result.start_amount, "out": str(out) if out else None})
        console.print(result.render())
        if out is not None:
            tr.write_json(result, out)
            console.print(f"wrote the trail to {out}")

    @app.command("train-money")
    def train_money(
        world: Annotated[list[Path] | None, typer.Option(help="Simulated world folder (repeat for several).")] = None,
        labels: Annotated[Path | None, typer.Option(help="Labels file (CSV: account_id,role or account_id,label) for the workspace's transfers.")] = None,
        out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the model and its card into.")] = Path("money-model"),
        version: Annotated[str | None, typer.Option(help="Model version name (default: money-lgbm-<date>).")] = None,
        seed: Annotated[int, typer.Option(help="Random seed of the learners.")] = 0,
        workspace: WorkspaceOpt = DEFAULT_WS,
    ) -> None:
        """Train the money risk model on simulated worlds' truth, or on the workspace's transfers with a labels
        file (or, without one, the labels that came with the transfers: IBM Is Laundering, AMLSim SAR)."""
        from narcotrace.money import train as tr

        if world:
            card = tr.train_from_worlds(world, out, version=version, seed=seed)
        else:
            card = tr.train_from_workspace(workspace, labels, out, version=version, seed=seed)
        console.print(tr.render_card(card))
        console.print(f"wrote model {card['version']} to {out}; use it with `narcotrace analyze --model {out}`")
