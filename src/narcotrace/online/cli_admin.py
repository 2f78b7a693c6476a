"""`narcotrace crawl`, `narcotrace review` and `narcotrace blocklist`: collecting pages, deciding, publishing."""

from pathlib import Path
from typing import Annotated

import typer

from narcotrace.console import console, err_console
from narcotrace.options import DEFAULT_WS, WorkspaceOpt

review_app = typer.Typer(help="Review flagged posts: the queue, and approve/reject per post or per shop.",
                         no_args_is_help=True)

ChannelOpt = Annotated[str | None, typer.Option("--channel", help="Decide every post of this drug channel "
                                                                    "(see `narcotrace channels`); the channel "
                                                                    "itself is approved/rejected too.")]
ShopOpt = Annotated[str | None, typer.Option("--shop", help="Decide every post carrying this indicator, e.g. "
                                                              "telegram:shopname or domain:shop.kz.")]
ReasonOpt = Annotated[str, typer.Option("--reason", "-r", help="Why (kept with the decision and audited).")]
ReviewerOpt = Annotated[str | None, typer.Option("--reviewer", help="Who decides. Default $NARCOTRACE_USER or "
                                                                     "$USER.")]
LabelOpt = Annotated[str | None, typer.Option("--label", help="Corrected label: sale, recruitment or none.")]
IdsArg = Annotated[list[str] | None, typer.Argument(help="Post ids (see `narcotrace review queue`).",
                                                    show_default=False)]


@review_app.command("queue")
def review_queue(
    workspace: WorkspaceOpt = DEFAULT_WS,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many posts to show.")] = 20,
    label: Annotated[str | None, typer.Option("--label", help="Only sale or only recruitment posts.")] = None,
    min_score: Annotated[float, typer.Option("--min-score", help="Only posts scoring at least this.")] = 0.0,
) -> None:
    """Flagged posts nobody has decided on yet, highest score first, with their indicators."""
    from rich.table import Table

    from narcotrace.online.review import queue
    from narcotrace.workspace import Workspace

    with Workspace.open(workspace, create=False) as ws:
        items = queue(ws, limit=limit, label=label, min_score=min_score)
    if not items:
        console.print("review queue is empty: no undecided sale/recruitment posts"
                      + (f" scoring {min_score} or more" if min_score else ""))
        return
    t = Table(title=f"review queue ({len(items)} shown, highest score first)", show_lines=True)
    for col, kw in (("post id", {"overflow": "fold"}), ("score", {"justify": "right"}), ("label", {}),
                    ("text", {"ratio": 3}), ("indicators", {"overflow": "fold", "ratio": 2})):
        t.add_column(col, **kw)
    for it in items:
        text = " ".join(it.text.split())
        t.add_row(it.post_id, f"{it.score:.2f}", it.label + (f"\n{', '.join(it.categories)}" if it.categories else ""),
                  (text[:280] + "…") if len(text) > 280 else text, "\n".join(it.indicators))
    console.print(t)


def _decide(decision: str, ids: list[str] | None, workspace: Path, shop: str | None, reason: str,
            reviewer: str | None, label: str | None, channel: str | None = None) -> None:
    from narcotrace.online.review import decide
    from narcotrace.workspace import Workspace

    with Workspace.open(workspace, create=False) as ws:
        done = decide(ws, decision, ids or [], shop=shop, reason=reason, reviewer=reviewer, label=label,
                      channel=channel)
    verb = "approved" if decision == "approve" else "rejected"
    console.print(f"{verb} {len(done):,} post(s)" + (f" of shop {shop}" if shop else "") + (f" of channel {channel}" if channel else "") + ": "
                  + ", ".join(done[:10]) + (" ..." if len(done) > 10 else ""), soft_wrap=True)


@review_app.command("approve")
def review_approve(reason: ReasonOpt, ids: IdsArg = None, workspace: WorkspaceOpt = DEFAULT_WS,
                   shop: ShopOpt = None, reviewer: ReviewerOpt = None, label: LabelOpt = None,
                   channel: ChannelOpt = None) -> None:
    """Approve posts as drug sale/recruitment: they enter blocklists (sale) and training."""
    _decide("approve", ids, workspace, shop, reason, reviewer, label, channel)


@review_app.command("reject")
def review_reject(reason: ReasonOpt, ids: IdsArg = None, workspace: WorkspaceOpt = DEFAULT_WS,
                  shop: ShopOpt = None, reviewer: ReviewerOpt = None, label: LabelOpt = None,
                  channel: ChannelOpt = None) -> None:
    """Reject posts (false positives): they never enter a blocklist; training learns them as `none`."""
    _decide("reject", ids, workspace, shop, reason, reviewer, label, channel)


def register(app: typer.Typer) -> None:
    app.add_typer(review_app, name="review")

    @app.command()
    def crawl(
        urls: Annotated[list[str], typer.Argument(help="Start URLs (http/https).", show_default=False)],
        workspace: WorkspaceOpt = DEFAULT_WS,
        depth: Annotated[int, typer.Option("--depth", help="Links to follow from a start page.")] = 2,
        rate: Annotated[float, typer.Option("--rate", help="Seconds between requests to one host (robots.txt "
                                                            "Crawl-delay wins if longer).")] = 1.0,
        ignore_robots: Annotated[bool, typer.Option("--ignore-robots",
                                                    help="Do not honour robots.txt (needs a legal basis).")] = False,
        max_pages: Annotated[int, typer.Option("--max-pages", help="Stop after this many pages.")] = 200,
        scan: Annotated[bool, typer.Option("--scan/--no-scan", help="Scan the WARC when done.")] = True,
    ) -> None:
        """Crawl sites politely (robots.txt, rate limit, same site), keep every page in a WARC, then scan it."""
        from narcotrace.console import progress
        from narcotrace.online.crawl import crawl_into, user_agent
        from narcotrace.workspace import Workspace

        with Workspace.open(workspace) as ws, progress() as bar:
            task = bar.add_task("crawling", total=max_pages)
            result, scanned = crawl_into(
                ws, urls, scan=scan, depth=depth, rate=rate, ignore_robots=ignore_robots, max_pages=max_pages,
                on_page=lambda url: bar.update(task, advance=1, description=f"crawling {url[:60]}"))
        console.print(f"user agent: {user_agent()}; robots.txt {'IGNORED' if ignore_robots else 'honoured'}",
                      soft_wrap=True)
        for line in result.lines():
            console.print(line, soft_wrap=True, markup=False)
        if scanned is not None:
            lines = scanned.render() if hasattr(scanned, "render") else [str(scanned)]
            for line in lines:
                console.print(line, soft_wrap=True, markup=False)
        elif scan and not result.fetched:
            err_console.print("nothing fetched, nothing to scan")

    @app.command()
    def blocklist(
        out: Annotated[Path, typer.Option("--out", "-o", help="File to write.", show_default=False)],
        fmt: Annotated[str, typer.Option("--format", "-f", help="rpz | hosts | csv | stix")] = "rpz",
        proposed: Annotated[bool, typer.Option("--proposed/--approved-only",
                                               help="Also list unreviewed sale posts above --min-score, "
                                                    "marked proposed (default: approved only).")] = False,
        min_score: Annotated[float, typer.Option("--min-score", help="Threshold for proposed entries.")] = 0.5,
        zone: Annotated[str, typer.Option("--zone", help="RPZ zone name.")] = "rpz.narcotrace.",
        allow: Annotated[list[str] | None, typer.Option("--allow", help="A domain never to DNS-block "
                                                                         "(repeatable).")] = None,
        channel: Annotated[str | None, typer.Option("--channel", help="Only this drug channel's posts "
                                                                       "(see `narcotrace channels`).")] = None,
        workspace: WorkspaceOpt = DEFAULT_WS,
    ) -> None:
        """Domains, URLs and handles of approved sale posts as an RPZ zone, hosts file, CSV or STIX 2.1 bundle."""
        from narcotrace.online.blocklist import write_blocklist
        from narcotrace.workspace import Workspace

        with Workspace.open(workspace, create=False) as ws:
            n = write_blocklist(ws, fmt, out, proposed=proposed, min_score=min_score, zone=zone, allow=allow or [],
                                channel=channel)
        what = "approved and proposed" if proposed else "approved"
        console.print(f"wrote {n:,} {what} entries to {out} ({fmt})", soft_wrap=True)
        if n == 0 and not proposed:
            err_console.print("no approved sale posts yet: approve some with `narcotrace review approve`, "
                              "or add --proposed")
