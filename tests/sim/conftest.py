"""Small simulated worlds shared by the simulator's tests (built once per session)."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).parent))


def _real_posts() -> bool:
    try:
        import narcotrace.sim.posts  # noqa: F401
        import narcotrace.sim.telegram  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(autouse=True)
def _posts_generator(monkeypatch):
    """Use the real post generator when it exists, else the local stand-in (fakeposts.py)."""
    if not _real_posts():
        import fakeposts

        from narcotrace.sim import world

        monkeypatch.setattr(world, "_posts_api", lambda: (fakeposts.generate_posts, fakeposts.write_posts))


def _build(path: Path, **kw):
    import fakeposts

    from narcotrace.sim import world

    if _real_posts():
        return world.simulate(path, **kw)
    else:
        orig = world._posts_api
        world._posts_api = lambda: (fakeposts.generate_posts, fakeposts.write_posts)
        try:
            return world.simulate(path, **kw)
        finally:
            world._posts_api = orig


@pytest.fixture(scope="session")
def small_world(tmp_path_factory):
    """A 2,000-people, 14-day world: (folder, Summary)."""
    out = tmp_path_factory.mktemp("world") / "w"
    summary = _build(out, seed=11, people=2000, days=14, shops=None, csv=True)
    return out, summary


@pytest.fixture(scope="session")
def con(small_world):
    out, _ = small_world
    c = duckdb.connect()
    for name, rel in [("t", "transfers"), ("a", "accounts"), ("tt", "truth/transfers"), ("ta", "truth/accounts"),
                      ("ch", "truth/channels"), ("ds", "truth/drop_spells"), ("ti", "truth/indicators"),
                      ("tp", "truth/posts")]:
        c.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{out / rel}.parquet')")
    c.execute(f"CREATE VIEW posts AS SELECT * FROM read_json_auto('{out / 'posts.jsonl'}', format='newline_delimited')")
    yield c
    c.close()


@pytest.fixture(scope="session")
def build_world():
    return _build
