"""Transfer readers, one per format, and format detection from the file's name, header or XML root."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from narcotrace.errors import InputError, UserError
from narcotrace.money.readers.base import TransferReader

FORMATS = ("auto", "canonical", "ibm", "amlsim", "pacs008", "camt053", "mapped")


def open_reader(name: str, mapping: Path | str | None = None) -> TransferReader:
    """The reader for a format name (after detection)."""
    if name == "canonical":
        from narcotrace.money.readers.canonical import CanonicalReader

        return CanonicalReader()
    if name == "ibm":
        from narcotrace.money.readers.ibm import IbmAmlReader

        return IbmAmlReader()
    if name == "amlsim":
        from narcotrace.money.readers.amlsim import AmlSimReader

        return AmlSimReader()
    if name in ("pacs008", "camt053"):
        from narcotrace.money.readers.iso20022 import Camt053Reader, Pacs008Reader

        return Pacs008Reader() if name == "pacs008" else Camt053Reader()
    if name == "mapped":
        if mapping is None:
            raise UserError("--format mapped needs --mapping FILE.yaml (see docs/formats.md)")
        from narcotrace.money.readers.mapped import MappedCsvReader

        return MappedCsvReader.from_file(Path(mapping))
    raise UserError(f"--format {name}: unknown; choose one of {', '.join(FORMATS)}")


def _head(path: Path, n: int = 65536) -> bytes:
    try:
        with path.open("rb") as fh:
            return fh.read(n)
    except OSError as e:
        raise InputError(path, f"cannot read: {e.strerror}") from e


def detect(con: Any, path: Path, fmt: str = "auto", mapping: Path | str | None = None) -> tuple[str, str]:
    """(format, kind) for a file: kind is 'transfers', 'accounts' or 'labels' (IBM patterns). `fmt` other than auto is trusted
    for the format; the kind is still read from the columns (AMLSim and canonical have account files)."""
    from narcotrace.money.readers import amlsim, canonical, ibm

    if fmt not in FORMATS:
        raise UserError(f"--format {fmt}: unknown; choose one of {', '.join(FORMATS)}")
    if fmt == "mapped" or (fmt == "auto" and mapping is not None):
        return "mapped", "transfers"
    if fmt in ("pacs008", "camt053"):
        return fmt, "transfers"
    suffix = path.suffix.lower()
    head = _head(path)
    if fmt == "auto" and (suffix == ".xml" or head.lstrip().startswith(b"<")):
        if b"FIToFICstmrCdtTrf" in head:
            return "pacs008", "transfers"
        if b"BkToCstmrStmt" in head:
            return "camt053", "transfers"
        raise InputError(path, "XML but neither pacs.008 (FIToFICstmrCdtTrf) nor camt.053 (BkToCstmrStmt)")
    if fmt in ("auto", "ibm") and suffix != ".parquet":
        if head.startswith(ibm.PATTERNS_MARK):
            return "ibm", "labels"  # HI-Small_Patterns.txt: typology of laundering transfers
        first = head.split(b"\n", 1)[0].decode("utf-8", "replace").lstrip("\ufeff")
        if ibm.looks_like(first):
            return "ibm", "transfers"
        if fmt == "ibm":
            raise InputError(path, "not an IBM AML transactions CSV: header should start "
                                   "'Timestamp,From Bank,Account,To Bank,Account'", row=1)
    cols = canonical.columns_of(con, path)
    if fmt in ("auto", "amlsim"):
        if amlsim.is_transactions(cols):
            return "amlsim", "transfers"
        if amlsim.is_accounts(cols):
            return "amlsim", "accounts"
        if fmt == "amlsim":
            raise InputError(path, "not AMLSim output: expected transactions (tran_id, orig_acct, bene_acct, "
                                   "base_amt, tran_timestamp) or accounts (acct_id, ...)")
    if canonical.is_canonical_transfers(cols):
        return "canonical", "transfers"
    if canonical.is_accounts(cols):
        return "canonical", "accounts"
    if fmt == "canonical":
        raise InputError(path, f"not a canonical transfers or accounts file: columns {', '.join(cols[:12])}; "
                               "expected timestamp, from_account, to_account, amount, currency")
    raise InputError(path, "cannot tell the format from its columns (" + ", ".join(cols[:8]) + "); pass "
                           "--format, or --format mapped --mapping FILE.yaml for other CSV layouts")
