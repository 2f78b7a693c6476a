"""`narcotrace analyze`: typologies, features, scores and alerts over the workspace's transfers, in one run."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from narcotrace.console import progress
from narcotrace.errors import UserError
from narcotrace.money import alerts as alerts_mod
from narcotrace.money import score as score_mod
from narcotrace.money import typologies
from narcotrace.money.engine import open_engine
from narcotrace.workspace import Workspace, utcnow


@dataclass
class AnalyzeReport:
    """What one analyze run found: hits per typology, accounts scored, alerts, and where time went."""

    engine: str
    model_version: str
    transfers: int = 0
    accounts_scored: int = 0
    hits: dict[str, int] = field(default_factory=dict)
    roles: dict[str, int] = field(default_factory=dict)  # suspected roles among accounts at or above min_score
    alerts_created: int = 0
    alerts_replaced: int = 0
    alerts_kept_reviewed: int = 0
    min_score: float = 0.5
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def total_hits(self) -> int:
        return sum(self.hits.values())

    def render(self) -> Any:
        from rich.console import Group
        from rich.table import Table

        head = Table(title=f"analyze ({self.engine}, {self.model_version})", show_header=False)
        head.add_column("what")
        head.add_column("value", justify="right")
        head.add_row("transfers", f"{self.transfers:,}")
        head.add_row("accounts scored", f"{self.accounts_scored:,}")
        for role, n in sorted(self.roles.items(), key=lambda kv: -kv[1]):
            head.add_row(f"  suspected {role} (score >= {self.min_score:g})", f"{n:,}")
        head.add_row("alerts created", f"{self.alerts_created:,}")
        head.add_row("alerts replaced (were new)", f"{self.alerts_replaced:,}")
        head.add_row("alerts kept (already reviewed)", f"{self.alerts_kept_reviewed:,}")
        head.add_row("time", " · ".join(f"{k} {v:.1f}s" for k, v in self.timings.items()))
        hits = Table(title="typology hits")
        hits.add_column("typology")
        hits.add_column("hits", justify="right")
        for name, n in self.hits.items():
            hits.add_row(name, f"{n:,}")
        return Group(head, hits)


def analyze(ws: Workspace, engine: str = "duckdb", rules_only: bool = False, *, model_path: str | Path | None = None,
            typology_params: str | Path | None = None, min_score: float | None = None) -> AnalyzeReport:
    """Detect typologies, score every account, and (re)build alerts; results go to workspace tables.

    Without `min_score`, alerts use the threshold on the model's card (chosen on its tuning worlds), or
    the rules' own threshold with `rules_only`.
    """
    n_transfers = ws.count("transfers")
    if n_transfers == 0:
        raise UserError(f"workspace {ws.root} has no transfers; run `narcotrace ingest FILE` first")
    params = typologies.load_params(typology_params)
    model = None if rules_only else score_mod.load_model(model_path)
    if min_score is None:
        min_score = score_mod.RULES_MIN_SCORE if model is None else model.min_score
    report = AnalyzeReport(engine=engine, model_version=score_mod.RULES_VERSION if model is None else model.version,
                           transfers=n_transfers, min_score=min_score)
    t0 = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t0
        now = time.perf_counter()
        report.timings[name] = now - t0
        t0 = now

    with progress() as bar, open_engine(ws, engine) as eng:
        task = bar.add_task("analyze", total=4)
        transfers = eng.table("transfers")
        accounts = eng.table("accounts")
        bar.update(task, description="typologies")
        typologies.write_hits(eng, "typology_hits", transfers, params)
        report.hits = {name: 0 for name in typologies.DETECTORS}
        report.hits.update(dict(ws.con.execute(
            "SELECT typology, count(*) FROM typology_hits GROUP BY typology").fetchall()))
        lap("typologies")
        bar.update(task, advance=1, description="features")
        hits = eng.table("typology_hits")
        X = score_mod.build_matrix(eng, transfers, accounts, hits)
        lap("features")
        bar.update(task, advance=1, description="scores")
        scores, version = score_mod.score_accounts(eng, transfers, accounts, hits, model=model, X=X,
                                                  min_score=min_score)
        _store_scores(ws, scores, version)
        lap("scores")
    bar_alerts = time.perf_counter()
    counts = alerts_mod.build_alerts(ws, min_score=min_score)
    report.timings["alerts"] = time.perf_counter() - bar_alerts
    t_index = time.perf_counter()
    from narcotrace.money.trace import ensure_adjacency

    ensure_adjacency(ws)  # so the first `trace` after analyze is fast
    report.timings["trace index"] = time.perf_counter() - t_index
    report.accounts_scored = len(scores)
    risky = scores[scores["score"] >= min_score]
    report.roles = {k: int(v) for k, v in risky["role"].value_counts().items()}
    report.alerts_created, report.alerts_replaced, report.alerts_kept_reviewed = (
        counts.created, counts.replaced, counts.kept_reviewed)
    ws.audit("analyze", str(ws.root), {
        "engine": engine, "model_version": report.model_version, "transfers": n_transfers,
        "hits": report.hits, "alerts_created": counts.created, "alerts_kept_reviewed": counts.kept_reviewed,
        "min_score": min_score, "typology_params": params.get("version"),
    }, actor="system")
    return report


def _store_scores(ws: Workspace, scores: pd.DataFrame, version: str) -> None:
    frame = scores.reset_index().rename(columns={"index": "account_id"})[["account_id", "score", "role", "role_score"]]
    frame["model_version"] = version
    frame["scored_at"] = utcnow()
    with ws.transaction(_scores=frame) as con:
        con.execute("DELETE FROM account_scores")
        con.execute("""
            INSERT INTO account_scores
            WITH ty AS (
                SELECT account_id, list(DISTINCT typology ORDER BY typology) AS typologies
                FROM (SELECT typology, unnest(account_ids) AS account_id FROM typology_hits) GROUP BY account_id
            )
            SELECT s.account_id, s.score, s.role, s.role_score, coalesce(ty.typologies, []::VARCHAR[]),
                   s.model_version, s.scored_at
            FROM _scores s LEFT JOIN ty USING (account_id)
        """)
        # A transfer is as risky as the chance that either end is a suspect; only the risky ones are kept.
        con.execute("DELETE FROM transfer_scores")
        con.execute("""
            INSERT INTO transfer_scores
            WITH member AS (
                SELECT tid AS transfer_id, list(DISTINCT typology ORDER BY typology) AS typologies
                FROM (SELECT typology, unnest(transfer_ids) AS tid FROM typology_hits) GROUP BY tid
            ),
            s AS (
                SELECT t.transfer_id,
                       1 - (1 - coalesce(a.score, 0)) * (1 - coalesce(b.score, 0)) AS score
                FROM transfers t
                LEFT JOIN _scores a ON a.account_id = t.from_account
                LEFT JOIN _scores b ON b.account_id = t.to_account
            )
            SELECT s.transfer_id, s.score, coalesce(m.typologies, []::VARCHAR[]), ?
            FROM s LEFT JOIN member m USING (transfer_id)
            WHERE s.score >= 0.2 OR m.transfer_id IS NOT NULL
        """, [version])
