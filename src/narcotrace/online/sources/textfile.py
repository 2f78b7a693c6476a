"""Text files of posts: encoding detection (BOM, UTF-8, UTF-16, cp1251), binary sniffing, bounded lines."""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

# One post is at most a few KB; a row over this limit is quarantined without being held in memory.
MAX_ROW_BYTES = 1 << 20
SNIFF_BYTES = 64 * 1024

# Magic numbers of files people drop into an input folder by mistake.
_MAGIC = [
    (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"), (b"PK\x03\x04", "a ZIP archive (or .xlsx/.docx)"),
    (b"\x1f\x8b", "a gzip archive"), (b"\x7fELF", "an executable"), (b"SQLite format 3", "an SQLite database"),
    (b"PAR1", "a Parquet file"), (b"\xd0\xcf\x11\xe0", "an old MS Office document (.xls/.doc)"),
    (b"7z\xbc\xaf", "a 7-Zip archive"), (b"Rar!", "a RAR archive"), (b"RIFF", "a RIFF media file"),
    (b"OggS", "an Ogg media file"), (b"ID3", "an MP3 file"),
]


@dataclass(frozen=True)
class Encoding:
    """How a text file is encoded: the codec to decode rows with, the BOM length to skip, a label."""

    codec: str  # codec for one row's bytes (never a BOM-consuming codec)
    bom: int  # bytes of byte-order mark at the start of the file
    label: str  # what the accounting says

    @property
    def ascii_compatible(self) -> bool:
        return not self.codec.startswith(("utf-16", "utf-32"))


def binary_reason(head: bytes) -> str | None:
    """Why these first bytes look like a binary file, not text; None if they look like text."""
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return f"binary file ({what}), not text"
    if _utf16_without_bom(head) or head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    sample = head[:8192]
    if b"\x00" in sample:
        return "binary file (contains NUL bytes), not text"
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13, 27))
    if sample and controls / len(sample) > 0.05:
        return f"binary file ({controls} control bytes in the first {len(sample)}), not text"
    return None


def _utf16_without_bom(head: bytes) -> str | None:
    sample = head[:4096]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    zeros_even, zeros_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    # Mostly-ASCII UTF-16 has a NUL in every other byte: odd positions for LE, even for BE.
    if zeros_odd > 0.3 and zeros_even < 0.05:
        return "utf-16-le"
    if zeros_even > 0.3 and zeros_odd < 0.05:
        return "utf-16-be"
    return None


def sniff_encoding(head: bytes) -> Encoding:
    """The encoding of a text file from its first bytes: BOM first, then UTF-16 shape, UTF-8, else cp1251."""
    if head.startswith(codecs.BOM_UTF8):
        return Encoding("utf-8", 3, "UTF-8 with BOM")
    if head.startswith(codecs.BOM_UTF32_LE):
        return Encoding("utf-32-le", 4, "UTF-32-LE with BOM")
    if head.startswith(codecs.BOM_UTF32_BE):
        return Encoding("utf-32-be", 4, "UTF-32-BE with BOM")
    if head.startswith(codecs.BOM_UTF16_LE):
        return Encoding("utf-16-le", 2, "UTF-16-LE with BOM")
    if head.startswith(codecs.BOM_UTF16_BE):
        return Encoding("utf-16-be", 2, "UTF-16-BE with BOM")
    bare16 = _utf16_without_bom(head)
    if bare16:
        return Encoding(bare16, 0, bare16.upper() + " without BOM (detected)")
    try:
        # final=False: the sample may end in the middle of a multi-byte character.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return Encoding("utf-8", 0, "UTF-8")
    except UnicodeDecodeError:
        pass
    # Not UTF-8: in Kazakhstan and Russia that is almost always Windows-1251 (Excel, old exporters).
    high = [b for b in head if b >= 0x80]
    cyrillic = sum(1 for b in high if b >= 0xC0 or b in (0xA8, 0xB8))
    sure = high and cyrillic / len(high) > 0.6
    return Encoding("cp1251", 0, "cp1251 (detected)" if sure else "cp1251 (assumed: not UTF-8)")


@dataclass
class Line:
    """One physical line: its 1-based number, raw bytes (no line ending), text, or why it is unusable."""

    number: int
    raw: bytes
    text: str | None
    error: str | None = None


def iter_lines(f: BinaryIO, enc: Encoding, max_bytes: int = MAX_ROW_BYTES, decode: bool = True) -> Iterator[Line]:
    """Lines of a text file, each decoded alone, never holding more than `max_bytes` of one line.

    decode=False (UTF-8 files only): lines come with their raw bytes and text None, for a caller that
    decodes them itself (orjson reads UTF-8 bytes directly) and calls `decode_line` when that fails."""
    f.seek(enc.bom)
    if not decode and enc.codec == "utf-8":
        yield from _iter_raw_lines(f, max_bytes)
    elif enc.ascii_compatible:
        yield from _iter_byte_lines(f, enc, max_bytes)
    else:
        yield from _iter_wide_lines(f, enc, max_bytes)


def decode_line(raw: bytes, enc: Encoding) -> tuple[str | None, str | None]:
    """(text, None) for a line's bytes, or (None, why they are not text in this encoding)."""
    try:
        return raw.decode(enc.codec), None
    except UnicodeDecodeError as e:
        return None, f"not valid {enc.codec} text at byte {e.start + 1} of the line"


def _iter_raw_lines(f: BinaryIO, max_bytes: int) -> Iterator[Line]:
    n = 0
    readline = f.readline
    while True:
        chunk = readline(max_bytes + 1)
        if not chunk:
            return
        n += 1
        if chunk[-1:] == b"\n":
            yield Line(n, chunk[:-2] if chunk[-2:-1] == b"\r" else chunk[:-1], None)
        elif len(chunk) > max_bytes:
            yield Line(n, b"", None, _too_long(chunk, f, max_bytes))
        else:
            yield Line(n, chunk, None)


def _iter_byte_lines(f: BinaryIO, enc: Encoding, max_bytes: int) -> Iterator[Line]:
    for line in _iter_raw_lines(f, max_bytes):
        if line.error is None:
            line.text, line.error = decode_line(line.raw, enc)
        yield line


def _too_long(chunk: bytes, f: BinaryIO, max_bytes: int) -> str:
    # Drain the rest of the line in bounded pieces: a 100 MB line is never held whole.
    size = len(chunk)
    while True:
        more = f.readline(1 << 20)
        size += len(more)
        if not more or more.endswith(b"\n"):
            break
    return f"line is {size:,} bytes, over the {max_bytes:,}-byte limit for one post; skipped"


def _iter_wide_lines(f: BinaryIO, enc: Encoding, max_bytes: int) -> Iterator[Line]:
    width = 4 if enc.codec.startswith("utf-32") else 2
    max_chars = max(1, max_bytes // width)
    text_io = io.TextIOWrapper(f, encoding=enc.codec, newline="")  # type: ignore[arg-type]
    n = 0
    try:
        while True:
            line = text_io.readline(max_chars + 1)
            if not line:
                return
            n += 1
            if len(line) > max_chars and not line.endswith("\n"):
                size = len(line)
                while True:
                    more = text_io.readline(1 << 18)
                    size += len(more)
                    if not more or more.endswith("\n"):
                        break
                yield Line(n, b"", None, f"line is about {size * width:,} bytes, over the {max_bytes:,}-byte "
                                         "limit for one post; skipped")
                continue
            line = line.rstrip("\r\n") if line.endswith("\n") else line
            # UTF-16/32 round-trips exactly, so re-encoding gives the row's raw bytes back.
            yield Line(n, line.encode(enc.codec), line)
    except UnicodeDecodeError as e:
        yield Line(n + 1, b"", None, f"not valid {enc.codec} from line {n + 1} on ({e.reason}); rest of file skipped")
    finally:
        text_io.detach()


def file_problem(head: bytes, what: str) -> str | None:
    """Why a file cannot hold `what` at all (empty, only blanks, binary); None if it may."""
    if not head:
        return f"empty file (0 bytes): no {what} to read"
    if not head.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        return f"empty file (only blank lines): no {what} to read"
    reason = binary_reason(head)
    if reason:
        return f"{reason}; expected {what}"
    return None
