"""Which reader fits a file: by extension first, then by sniffing its first bytes; folders are walked."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

FORMATS = ("jsonl", "csv", "telegram", "html", "warc")

_EXTENSIONS = {
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".jsonlines": "jsonl",
    ".csv": "csv", ".tsv": "csv",
    ".html": "html", ".htm": "html", ".xhtml": "html", ".shtml": "html",
    ".warc": "warc", ".warc.gz": "warc", ".arc": "warc", ".arc.gz": "warc",
}
# Media and assets in export folders (Telegram's photos/, stickers/, css/, js/): never posts, not opened.
_NOT_POSTS = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tiff", ".svg", ".ico", ".heic", ".mp4", ".mov",
              ".webm", ".mkv", ".avi", ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".wav", ".tgs", ".css", ".js",
              ".pdf", ".zip", ".rar", ".7z", ".apk", ".exe", ".doc", ".docx", ".xls", ".xlsx", ".woff", ".woff2",
              ".ttf", ".parquet", ".duckdb"}
_HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body|meta|title)\b", re.I | re.S)
_TELEGRAM_KEYS = re.compile(rb'"(messages|chats|left_chats|personal_information|frequent_contacts)"\s*:')


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for ext in (".warc.gz", ".arc.gz"):
        if name.endswith(ext):
            return ext
    return path.suffix.lower()


def sniff_format(path: Path) -> str | None:
    """The format of one file, or None when it is not a posts format narcotrace reads."""
    suffix = _suffix(path)
    by_ext = _EXTENSIONS.get(suffix)
    if by_ext:
        return by_ext
    if suffix in _NOT_POSTS:
        return None
    try:
        with open(path, "rb") as f:
            head = f.read(65536)
    except OSError:
        return None
    return sniff_bytes(head, json_name=path.suffix.lower() == ".json")


def sniff_bytes(head: bytes, *, json_name: bool = False) -> str | None:
    body = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if body.startswith(b"WARC/") or (head.startswith(b"\x1f\x8b") and not json_name):
        return "warc" if body.startswith(b"WARC/") or _gzip_warc(head) else None
    if body.startswith(b"{"):
        first_line = body.split(b"\n", 1)[0]
        # A Telegram export is one pretty-printed object; JSONL is one compact object per line.
        one_line_object = first_line.rstrip().endswith(b"}")
        if not one_line_object and (json_name or _TELEGRAM_KEYS.search(body[:8192])):
            return "telegram"
        return "jsonl"
    if body.startswith(b"["):
        return "jsonl"  # a JSON array of posts: the JSONL reader streams it
    if _HTML_START.match(body[:2048]):
        return "html"
    if json_name:
        return "telegram"  # a .json that is neither: let the Telegram reader explain what is wrong
    return None


def _gzip_warc(head: bytes) -> bool:
    import zlib

    try:
        return zlib.decompressobj(31).decompress(head, 64).lstrip().startswith(b"WARC/")
    except zlib.error:
        return False


def walk(folder: Path, fmt: str) -> Iterator[tuple[Path, str | None]]:
    """Files under a folder in a stable order with their format (None: not a posts file, e.g. a photo)."""
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = Path(root) / name
            found = sniff_format(path)
            if fmt != "auto":
                found = fmt if found == fmt else None
            yield path, found
