"""Load a simulated world's accounts and transfers into a workspace (the demo's second step)."""

from __future__ import annotations

from pathlib import Path

from narcotrace.workspace import Workspace


def load_world(ws: Workspace, world_dir: Path) -> dict[str, int]:
    """Ingest accounts.parquet and transfers.parquet through the money pillar's ingest; return the counts."""
    from narcotrace.money.ingest import ingest_paths

    world_dir = Path(world_dir)
    report = ingest_paths(ws, [world_dir / "accounts.parquet", world_dir / "transfers.parquet"])
    return {
        "rows read": report.read,
        "rows stored": report.stored,
        "rows quarantined": report.quarantined,
        "accounts in workspace": ws.count("accounts"),
        "transfers in workspace": ws.count("transfers"),
    }
