"""What the readers saw in each input file: posts, quarantined rows, skipped items, encoding, file errors."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class FileReport:
    """The accounting of one input file: read = posts + quarantined; `skipped` are things that are not
    posts by nature (Telegram service messages, blank lines, images in a WARC), counted so none vanish."""

    path: str
    format: str
    encoding: str | None = None
    posts: int = 0
    quarantined: int = 0
    skipped: Counter = field(default_factory=Counter)
    warnings: Counter = field(default_factory=Counter)  # posts kept with a flaw (an unreadable date)
    notes: list[str] = field(default_factory=list)
    error: str | None = None  # the whole file was rejected (empty, binary, not this format)

    @property
    def read(self) -> int:
        return self.posts + self.quarantined

    def line(self) -> str:
        if self.error:
            return f"{self.path}: {self.error}"
        # Parentheses, not brackets: these lines are printed through Rich, which reads [..] as markup.
        parts = [f"{self.path} ({self.format}" + (f", {self.encoding}" if self.encoding else "") + "): "
                 f"read {self.read:,} = {self.posts:,} posts + {self.quarantined:,} quarantined"]
        if self.skipped:
            parts.append("skipped " + ", ".join(f"{n:,} {what}" for what, n in sorted(self.skipped.items())))
        if self.warnings:
            parts.append("warnings: " + ", ".join(f"{n:,} {w}" for w, n in sorted(self.warnings.items())))
        parts.extend(self.notes)
        return "; ".join(parts)


@dataclass
class ReadReport:
    """The accounting of one `read_posts` call, file by file; pass one in to get it filled."""

    files: list[FileReport] = field(default_factory=list)

    def add(self, path: str, fmt: str) -> FileReport:
        fr = FileReport(path, fmt)
        self.files.append(fr)
        return fr

    @property
    def posts(self) -> int:
        return sum(f.posts for f in self.files)

    @property
    def quarantined(self) -> int:
        return sum(f.quarantined for f in self.files)

    @property
    def read(self) -> int:
        return self.posts + self.quarantined

    @property
    def skipped(self) -> Counter:
        total: Counter = Counter()
        for f in self.files:
            total.update(f.skipped)
        return total

    @property
    def rejected_files(self) -> list[FileReport]:
        return [f for f in self.files if f.error]

    def lines(self) -> list[str]:
        """One line per file, then the totals: what a command prints as its accounting."""
        out = [f.line() for f in self.files]
        total = f"total: read {self.read:,} = {self.posts:,} posts + {self.quarantined:,} quarantined"
        if self.skipped:
            total += "; skipped " + ", ".join(f"{n:,} {w}" for w, n in sorted(self.skipped.items()))
        if self.rejected_files:
            total += f"; {len(self.rejected_files)} file(s) rejected"
        out.append(total)
        return out
