"""Read transfer and account files into the workspace: validate set-based in DuckDB, store or quarantine
every row, and account for it (read = stored + quarantined + duplicates).

Rules (docs/formats.md, "Transfers input formats"):
- quarantined, with the reason: missing/unparseable timestamp, missing account, missing/unparseable,
  zero or negative amount, unknown currency, self-transfer (same account on both sides: it moves no money
  between accounts, so there is nothing to follow, and it would fake cycles and pass-through), a transfer id
  seen before with different content, malformed rows/XML;
- an identical re-delivery of a transfer already stored (same id and same time, accounts, amount, currency)
  is counted as a duplicate and not stored again;
- a file whose sha256 is in ingest_log is skipped: re-ingesting adds nothing;
- transfer_id is kept unique by an anti-join at insert time rather than a PRIMARY KEY (a key index on
  tens of millions of VARCHAR ids costs GiBs of memory and slows bulk inserts in DuckDB);
- accounts named in transfers but absent from `accounts` are added (account_id, bank; country and an
  iban: identifier when the id is an IBAN);
- canonical transfers may carry what the payer typed (`to_card`, `to_phone`): they become card:/phone:
  identifiers of the receiving account (source `transfers`).
"""

from __future__ import annotations

import hashlib
import itertools
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from narcotrace import identifiers
from narcotrace.console import progress
from narcotrace.errors import InputError, UserError
from narcotrace.money import fx
from narcotrace.money.readers import detect, open_reader
from narcotrace.money.readers.base import STAGE_SCHEMA, Staged
from narcotrace.workspace import Workspace, utcnow

DUPLICATE = "=duplicate"  # marker in the staging table: identical re-delivery, counted, not stored
EXAMPLES = 5
IBAN_RE = "^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$"
ACCOUNT_FIELDS = ("account_id", "kind", "bank", "country", "holder_id", "holder_name", "holder_kind", "card",
                  "phone", "iban", "address", "currency", "opened_at")
_seq = itertools.count()


@dataclass
class FileReport:
    """What happened to one input file."""

    path: str
    format: str
    kind: str
    read: int = 0
    stored: int = 0
    quarantined: int = 0
    duplicates: int = 0
    skipped: bool = False  # already ingested (same sha256)
    reasons: Counter = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)  # "file, row N: reason" for the first few

    @property
    def balanced(self) -> bool:
        return self.read == self.stored + self.quarantined + self.duplicates


@dataclass
class IngestReport:
    """Per-file and total accounting of an ingest run: read = stored + quarantined + duplicates."""

    files: list[FileReport] = field(default_factory=list)
    accounts_added: int = 0
    identifiers_added: int = 0

    def _sum(self, attr: str) -> int:
        return sum(getattr(f, attr) for f in self.files)

    read = property(lambda self: self._sum("read"))
    stored = property(lambda self: self._sum("stored"))
    quarantined = property(lambda self: self._sum("quarantined"))
    duplicates = property(lambda self: self._sum("duplicates"))

    @property
    def reasons(self) -> Counter:
        total: Counter = Counter()
        for f in self.files:
            total.update(f.reasons)
        return total

    def render(self) -> Any:
        """A Rich renderable: a table per file, totals, quarantine reasons and a few example rows."""
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        t = Table(title="ingest", show_footer=True)
        t.add_column("file", footer="total")
        t.add_column("format")
        t.add_column("read", justify="right", footer=f"{self.read:,}")
        t.add_column("stored", justify="right", footer=f"{self.stored:,}")
        t.add_column("quarantined", justify="right", footer=f"{self.quarantined:,}")
        t.add_column("duplicates", justify="right", footer=f"{self.duplicates:,}")
        for f in self.files:
            note = " (already ingested, skipped)" if f.skipped else ""
            t.add_row(f.path + note, f"{f.format}/{f.kind}", f"{f.read:,}", f"{f.stored:,}",
                      f"{f.quarantined:,}", f"{f.duplicates:,}")
        parts: list[Any] = [t, Text(
            f"read {self.read:,} = stored {self.stored:,} + quarantined {self.quarantined:,}"
            f" + duplicates {self.duplicates:,}")]
        if self.accounts_added or self.identifiers_added:
            parts.append(Text(f"accounts added {self.accounts_added:,}, identifiers added "
                              f"{self.identifiers_added:,}"))
        if self.reasons:
            parts.append(Text("quarantined: " + "; ".join(f"{r} {n:,}" for r, n in self.reasons.most_common())))
            for f in self.files:
                for ex in f.examples:
                    parts.append(Text("  " + ex))
        return Group(*parts)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def expand(paths: list[Path]) -> list[Path]:
    """Files named, and the data files inside folders named (AMLSim writes a folder)."""
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out += sorted(q for q in p.iterdir() if q.suffix.lower() in (".csv", ".parquet", ".xml", ".txt"))
        elif p.exists():
            out.append(p)
        else:
            raise UserError(f"{p}: no such file or folder")
    return out


# ---------------------------------------------------------------------------------------------------------
def ingest_paths(ws: Workspace, paths: list[Path | str], fmt: str = "auto", mapping: Path | str | None = None,
                 rates: Path | str | None = None) -> IngestReport:
    """Ingest transfer (and account) files; see the module docstring for the rules."""
    files = expand([Path(p) for p in paths])
    if mapping is not None:
        open_reader("mapped", mapping)  # a bad mapping is reported before any file is read or skipped
    report = IngestReport()
    _load_fx(ws, rates)
    plan = [(p, detect(ws.con, p, fmt, mapping)) for p in files]
    # Accounts first, so transfers that name them find them and only unknown ones are derived.
    # Labels (IBM patterns) last: they name transfers that must be stored first.
    plan.sort(key=lambda item: {"accounts": 0, "transfers": 1}.get(item[1][1], 2))
    with progress() as bar:
        task = bar.add_task("ingest", total=len(plan))
        for path, (name, kind) in plan:
            bar.update(task, description=f"ingest {path.name}")
            if kind == "accounts":
                fr, n_ids = _ingest_accounts_file(ws, path, name)
                report.identifiers_added += n_ids
            elif kind == "labels":
                fr = _ingest_ibm_patterns(ws, path)
            else:
                fr, n_acc, n_ids = _ingest_transfers_file(ws, path, name, mapping)
                report.accounts_added += n_acc
                report.identifiers_added += n_ids
            report.files.append(fr)
            bar.advance(task)
    ws.audit("ingest", ", ".join(str(p) for p in files), {
        "format": fmt, "read": report.read, "stored": report.stored, "quarantined": report.quarantined,
        "duplicates": report.duplicates, "reasons": dict(report.reasons)})
    return report


def ingest_accounts(ws: Workspace, paths: list[Path | str], fmt: str = "auto") -> IngestReport:
    """`narcotrace ingest accounts FILE`: an account registry (CSV/Parquet) into accounts + identifiers."""
    report = IngestReport()
    for path in expand([Path(p) for p in paths]):
        name = "amlsim" if fmt == "amlsim" else "canonical"
        fr, n_ids = _ingest_accounts_file(ws, path, name)
        report.files.append(fr)
        report.identifiers_added += n_ids
    ws.audit("ingest", ", ".join(str(p) for p in paths), {
        "kind": "accounts", "read": report.read, "stored": report.stored, "quarantined": report.quarantined})
    return report


def _load_fx(ws: Workspace, rates: Path | str | None) -> None:
    r = fx.load_rates(rates)
    ws.con.execute("CREATE OR REPLACE TEMP TABLE _fx (spelling VARCHAR, code VARCHAR, rate DOUBLE)")
    rows = {(s.strip().lower(), c, v) for s, c, v in r.lookup_rows()}
    ws.con.executemany("INSERT INTO _fx VALUES (?, ?, ?)", sorted(rows))


def _materialise(ws: Workspace, staged: Staged, table: str) -> None:
    """Arrow batches from a streaming reader into a temp table."""
    con = ws.con
    cols = ", ".join(f'"{f.name}" {_duck_type(f.type)}' for f in STAGE_SCHEMA)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} ({cols})")
    for batch in staged.batches or ():
        con.register("_nt_batch", batch)
        con.execute(f"INSERT INTO {table} SELECT * FROM _nt_batch")
        con.unregister("_nt_batch")


def _duck_type(t: Any) -> str:
    import pyarrow as pa

    return {pa.int64(): "BIGINT", pa.int32(): "INTEGER", pa.float64(): "DOUBLE",
            pa.timestamp("us"): "TIMESTAMP"}.get(t, "VARCHAR")


def _ingest_transfers_file(ws: Workspace, path: Path, fmt: str,
                           mapping: Path | str | None) -> tuple[FileReport, int, int]:
    con = ws.con
    fr = FileReport(str(path), fmt, "transfers")
    sha = file_sha256(path)
    if ws.already_ingested(sha, "transfers"):
        fr.skipped = True
        return fr, 0, 0
    reader = open_reader(fmt, mapping)
    staged = reader.stage(con, path)
    n = next(_seq)
    raw, stage = f"_tr_raw_{n}", f"_tr_stage_{n}"
    if staged.sql is not None:
        source_rel = f"({staged.sql})"  # tabular formats: read and check in one pass, one materialisation
    else:
        _materialise(ws, staged, raw)
        source_rel = raw
    src = str(path).replace("'", "''")
    # Ids missing in the input are derived from the file and row, so they are stable for that file.
    prefix = sha[:12]
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {stage} AS
        SELECT r.* EXCLUDE (transfer_id, currency),
               coalesce(nullif(trim(r.transfer_id), ''), '{prefix}-' || r.source_row) AS transfer_id,
               r.currency AS currency_raw, fx.code AS currency, r.amount * fx.rate AS amount_base,
               CASE
                 WHEN r.reject IS NOT NULL THEN r.reject
                 WHEN r.timestamp IS NULL AND coalesce(trim(r.timestamp_raw), '') = '' THEN 'missing timestamp'
                 WHEN r.timestamp IS NULL THEN 'unparseable timestamp'
                 WHEN r.from_account IS NULL OR r.to_account IS NULL
                      OR trim(r.from_account) = '' OR trim(r.to_account) = '' THEN 'missing account'
                 WHEN r.amount IS NULL AND coalesce(trim(r.amount_raw), '') = '' THEN 'missing amount'
                 WHEN r.amount IS NULL OR isnan(r.amount) OR isinf(r.amount) THEN 'unparseable amount'
                 WHEN r.amount <= 0 THEN 'zero or negative amount'
                 WHEN fx.code IS NULL THEN 'unknown currency'
                 WHEN r.from_account = r.to_account THEN 'self-transfer'
               END AS reason
        FROM {source_rel} r LEFT JOIN _fx fx ON fx.spelling = lower(trim(r.currency))""")
    con.execute(f"DROP TABLE IF EXISTS {raw}")
    same = ("a.timestamp = b.timestamp AND a.from_account = b.from_account AND a.to_account = b.to_account "
            "AND a.amount = b.amount AND a.currency = b.currency")
    # Repeated ids inside the file: the first is kept; later ones are re-deliveries or conflicts.
    con.execute(f"""
        UPDATE {stage} SET reason = d.reason FROM (
            WITH r AS (
                SELECT *, row_number() OVER (PARTITION BY transfer_id ORDER BY source_row) AS k
                FROM {stage} WHERE reason IS NULL AND transfer_id IN (
                    SELECT transfer_id FROM {stage} WHERE reason IS NULL GROUP BY 1 HAVING count(*) > 1))
            SELECT a.source_row,
                   CASE WHEN {same} THEN '{DUPLICATE}'
                        ELSE 'duplicate transfer id with different content (first at row ' || b.source_row || ')'
                   END AS reason
            FROM r a JOIN r b ON a.transfer_id = b.transfer_id AND a.k > 1 AND b.k = 1
        ) d WHERE {stage}.source_row = d.source_row""")
    # Ids already stored (earlier files).
    if con.execute("SELECT count(*) FROM (SELECT 1 FROM transfers LIMIT 1)").fetchone()[0]:
        con.execute(f"""
            UPDATE {stage} SET reason = d.reason FROM (
                SELECT a.source_row,
                       CASE WHEN {same} THEN '{DUPLICATE}'
                            ELSE 'duplicate transfer id with different content (stored from ' || b.source ||
                                 ', row ' || b.source_row || ')' END AS reason
                FROM {stage} a JOIN transfers b ON a.transfer_id = b.transfer_id
                WHERE a.reason IS NULL) d
            WHERE {stage}.source_row = d.source_row""")
    now = utcnow()
    con.execute(f"""
        INSERT INTO transfers
        SELECT transfer_id, timestamp, from_account, to_account, from_bank, to_bank, amount, currency,
               amount_base, channel, description, '{src}', source_row, '{sha}'
        FROM {stage} WHERE reason IS NULL""")
    raw_text = ("coalesce(raw, concat_ws(',', transfer_id, coalesce(timestamp_raw, timestamp::VARCHAR), "
                "from_account, to_account, from_bank, to_bank, coalesce(amount_raw, amount::VARCHAR), currency_raw, "
                "channel, description))")
    con.execute(f"""
        INSERT INTO quarantine
        SELECT 'transfers', '{src}', source_row, reason, left({raw_text}, 2000), ?
        FROM {stage} WHERE reason IS NOT NULL AND reason <> '{DUPLICATE}'""", [now])
    if staged.rejected_sql:
        con.execute(f"""INSERT INTO quarantine SELECT 'transfers', '{src}', source_row, reason, left(raw, 2000), ?
                        FROM ({staged.rejected_sql})""", [now])
    if staged.labels_source:
        con.execute(f"""
            INSERT INTO transfer_labels
            SELECT transfer_id, label, typology, '{staged.labels_source}'
            FROM {stage} WHERE reason IS NULL AND label IS NOT NULL""")
    counts = dict(con.execute(f"SELECT coalesce(reason, ''), count(*) FROM {stage} GROUP BY 1").fetchall())
    fr.stored = counts.pop("", 0)
    fr.duplicates = counts.pop(DUPLICATE, 0)
    for reason, k in counts.items():
        fr.reasons[_reason_key(reason)] += k
    if staged.rejected_sql:
        for reason, k in con.execute(f"SELECT reason, count(*) FROM ({staged.rejected_sql}) GROUP BY 1").fetchall():
            fr.reasons[_reason_key(reason)] += k
    fr.quarantined = sum(fr.reasons.values())
    fr.read = fr.stored + fr.quarantined + fr.duplicates
    fr.examples = [f"{path.name}, row {r}: {reason}" for r, reason in con.execute(
        f"""SELECT source_row, reason FROM quarantine WHERE source = '{src}' AND kind = 'transfers'
            ORDER BY source_row LIMIT {EXAMPLES}""").fetchall()]
    n_acc, n_ids = _derive_accounts(ws, stage)
    n_ids += _typed_identifiers(ws, stage)
    con.execute(f"DROP TABLE {stage}")
    ws.log_ingest(sha, str(path), fmt, "transfers", fr.read, fr.stored, fr.quarantined)
    return fr, n_acc, n_ids


def _ingest_ibm_patterns(ws: Workspace, path: Path) -> FileReport:
    """IBM `*_Patterns.txt`: set `transfer_labels.typology` of the stored IBM transfers each block lists.

    A pattern line is matched to a stored transfer by time, accounts, paid amount and currency (IBM rows have
    no id); lines that match none (transfers not ingested, or quarantined) are quarantined as such.
    """
    from narcotrace.money.readers.ibm import pattern_rows

    con = ws.con
    fr = FileReport(str(path), "ibm", "labels")
    sha = file_sha256(path)
    if ws.already_ingested(sha, "labels"):
        fr.skipped = True
        return fr
    rows = pattern_rows(path)
    src = str(path).replace("'", "''")
    con.execute("CREATE OR REPLACE TEMP TABLE _patterns (line BIGINT, typology VARCHAR, detail VARCHAR, "
                "ts VARCHAR, from_acct VARCHAR, to_acct VARCHAR, amount VARCHAR, currency VARCHAR, raw VARCHAR)")
    con.executemany("INSERT INTO _patterns VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [
        (n, typ, det, *((c[0], c[2], c[4], c[7], c[8]) if c else (None,) * 5), raw) for n, typ, det, c, raw in rows])
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _pattern_hits AS
        SELECT p.line, p.typology || coalesce(': ' || p.detail, '') AS typology, min(t.transfer_id) AS transfer_id
        FROM _patterns p
        LEFT JOIN _fx fx ON fx.spelling = lower(trim(p.currency))
        LEFT JOIN transfers t ON t.timestamp = try_strptime(p.ts, '%Y/%m/%d %H:%M')
             AND t.from_account = p.from_acct AND t.to_account = p.to_acct
             AND t.amount = TRY_CAST(p.amount AS DOUBLE) AND t.currency = fx.code
        GROUP BY ALL""")
    con.execute("""
        UPDATE transfer_labels SET typology = h.typology FROM _pattern_hits h
        WHERE transfer_labels.transfer_id = h.transfer_id AND transfer_labels.source = 'ibm_aml'""")
    now = utcnow()
    con.execute(f"""
        INSERT INTO quarantine
        SELECT 'labels', '{src}', p.line,
               CASE WHEN p.ts IS NULL THEN 'malformed row: expected 11 columns'
                    ELSE 'pattern row matches no stored transfer' END, left(p.raw, 2000), ?
        FROM _patterns p JOIN _pattern_hits h USING (line) WHERE h.transfer_id IS NULL""", [now])
    for reason, k in con.execute(f"""SELECT reason, count(*) FROM quarantine WHERE kind = 'labels'
                                     AND source = '{src}' GROUP BY 1""").fetchall():
        fr.reasons[reason] += k
    fr.stored = con.execute("SELECT count(*) FROM _pattern_hits WHERE transfer_id IS NOT NULL").fetchone()[0]
    fr.quarantined = sum(fr.reasons.values())
    fr.read = len(rows)
    fr.examples = [f"{path.name}, line {r}: {reason}" for r, reason in con.execute(
        f"""SELECT source_row, reason FROM quarantine WHERE source = '{src}' AND kind = 'labels'
            ORDER BY source_row LIMIT {EXAMPLES}""").fetchall()]
    ws.log_ingest(sha, str(path), "ibm", "labels", fr.read, fr.stored, fr.quarantined)
    return fr


def _reason_key(reason: str) -> str:
    """Group reasons for the summary: drop the per-row detail in parentheses."""
    return reason.split(" (", 1)[0]


def _derive_accounts(ws: Workspace, stage: str) -> tuple[int, int]:
    """Accounts named in stored transfers but unknown to `accounts`: add them with their bank."""
    con = ws.con
    before = ws.count("accounts")
    con.execute(f"""
        INSERT INTO accounts (account_id, kind, bank, country, iban, source)
        SELECT a, NULL, min(b), CASE WHEN regexp_full_match(a, '{IBAN_RE}') THEN left(a, 2) END,
               CASE WHEN regexp_full_match(a, '{IBAN_RE}') THEN a END, 'transfers'
        FROM (SELECT from_account AS a, from_bank AS b FROM {stage} WHERE reason IS NULL
              UNION ALL SELECT to_account, to_bank FROM {stage} WHERE reason IS NULL) t
        WHERE NOT EXISTS (SELECT 1 FROM accounts x WHERE x.account_id = t.a)
        GROUP BY a""")
    added = ws.count("accounts") - before
    n_ids = 0
    if added:
        n_ids = _insert_identifiers(ws, f"""
            SELECT 'iban:' || iban AS identifier, account_id, 'iban' AS kind, 'transfers' AS source
            FROM accounts WHERE source = 'transfers' AND iban IS NOT NULL""")
    return added, n_ids


def _typed_identifiers(ws: Workspace, stage: str) -> int:
    """card:/phone: identifiers of receiving accounts from what payers typed (`to_card`, `to_phone` columns of
    canonical transfers), so an ad's card or phone meets its account without an account registry."""
    con = ws.con
    cols = {r[0] for r in con.execute(f"DESCRIBE {stage}").fetchall()}
    parts = []
    if "to_card" in cols:
        parts.append(f"""SELECT DISTINCT 'card:' || regexp_replace(to_card, '[^0-9]', '', 'g'), to_account, 'card', 'transfers'
            FROM {stage} WHERE reason IS NULL AND length(regexp_replace(to_card, '[^0-9]', '', 'g')) BETWEEN 12 AND 19""")
    if "to_phone" in cols:
        parts.append(f"""SELECT DISTINCT 'phone:' || to_phone, to_account, 'phone', 'transfers'
            FROM {stage} WHERE reason IS NULL AND regexp_full_match(to_phone, '\\+7[0-9]{{10}}')""")
    n = _insert_identifiers(ws, " UNION ALL ".join(parts)) if parts else 0
    if "to_phone" in cols:  # other spellings through identifiers.phone (few distinct values)
        rows = con.execute(f"""SELECT DISTINCT to_phone, to_account FROM {stage} WHERE reason IS NULL
                               AND to_phone IS NOT NULL AND NOT regexp_full_match(to_phone, '\\+7[0-9]{{10}}')""").fetchall()
        n += _insert_identifier_rows(
            ws, [(ident, acct, "phone", "transfers") for ph, acct in rows if (ident := identifiers.phone(ph))])
    return n


def _insert_identifiers(ws: Workspace, select_sql: str) -> int:
    before = ws.count("account_identifiers")
    ws.con.execute(f"""
        INSERT INTO account_identifiers
        SELECT DISTINCT n.* FROM ({select_sql}) n(identifier, account_id, kind, source)
        WHERE n.identifier IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM account_identifiers x WHERE x.identifier = n.identifier AND x.account_id = n.account_id)""")
    return ws.count("account_identifiers") - before


def _insert_identifier_rows(ws: Workspace, rows: list[tuple[str, str, str, str]]) -> int:
    """`_insert_identifiers` for (identifier, account_id, kind, source) rows computed in Python."""
    if not rows:
        return 0
    ws.con.execute("CREATE OR REPLACE TEMP TABLE _ids_rows (identifier VARCHAR, account_id VARCHAR, "
                   "kind VARCHAR, source VARCHAR)")
    ws.con.executemany("INSERT INTO _ids_rows VALUES (?, ?, ?, ?)", rows)
    return _insert_identifiers(ws, "SELECT * FROM _ids_rows")


# ---- accounts ---------------------------------------------------------------------------------------------
ACCOUNT_SYNONYMS = {
    "account_id": ("account_id", "account", "acct_id", "account_number"),
    "holder_name": ("holder_name", "holder", "name", "owner"),
    "holder_id": ("holder_id", "person_id", "customer_id", "iin"),
    "card": ("card", "card_number", "pan"),
    "phone": ("phone", "phone_number", "msisdn"),
    "opened_at": ("opened_at", "open_date", "opened"),
}


def _accounts_select(con: Any, path: Path) -> tuple[str, str | None]:
    from narcotrace.money.readers.canonical import columns_of
    from narcotrace.money.readers.tabular import nullif_blank, qi, read_csv_numbered

    if path.suffix.lower() == ".parquet":
        cols = columns_of(con, path)
        src = f"(SELECT file_row_number + 1 AS _rn, * FROM read_parquet('{str(path).replace(chr(39), chr(39) * 2)}', file_row_number=true))"
        rejected = None
    else:
        src, rejected, cols = read_csv_numbered(con, path)
    lower = {c.lower(): c for c in cols}
    exprs = []
    for f in ACCOUNT_FIELDS:
        name = next((lower[s] for s in ACCOUNT_SYNONYMS.get(f, (f,)) if s in lower), None)
        if name is None:
            exprs.append(f"NULL::{'TIMESTAMP' if f == 'opened_at' else 'VARCHAR'} AS {f}")
        elif f == "opened_at":
            exprs.append(f"TRY_CAST({qi(name)} AS TIMESTAMP) AS {f}")
        else:
            exprs.append(f"{nullif_blank(f'CAST({qi(name)} AS VARCHAR)')} AS {f}")
    if not any(s in lower for s in ACCOUNT_SYNONYMS["account_id"]):
        raise InputError(path, "not an accounts file: no account_id column (expected account_id, bank, holder, "
                               "card, phone, iban, ...)")
    raw = "concat_ws(',', " + ", ".join(f"CAST({qi(c)} AS VARCHAR)" for c in cols) + ")"
    return f"SELECT _rn AS source_row, {', '.join(exprs)}, {raw} AS raw FROM {src}", rejected


def _ingest_accounts_file(ws: Workspace, path: Path, fmt: str) -> tuple[FileReport, int]:
    from narcotrace.money.readers import amlsim

    con = ws.con
    fr = FileReport(str(path), fmt, "accounts")
    sha = file_sha256(path)
    if ws.already_ingested(sha, "accounts"):
        fr.skipped = True
        return fr, 0
    if fmt == "amlsim":
        sql, rejected = amlsim.accounts_sql(con, path)
    else:
        sql, rejected = _accounts_select(con, path)
    n = next(_seq)
    stage = f"_acc_stage_{n}"
    src = str(path).replace("'", "''")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {stage} AS
        SELECT *, CASE WHEN account_id IS NULL THEN 'missing account id'
                       WHEN k > 1 THEN 'duplicate account id (first at row ' || first_row || ')' END AS reason
        FROM (SELECT *, row_number() OVER (PARTITION BY account_id ORDER BY source_row) AS k,
                     min(source_row) OVER (PARTITION BY account_id) AS first_row FROM ({sql}))""")
    cols = ", ".join(ACCOUNT_FIELDS)
    updates = ", ".join(f"{c} = coalesce(excluded.{c}, accounts.{c})" for c in ACCOUNT_FIELDS[1:])
    con.execute(f"""
        INSERT INTO accounts ({cols}, source)
        SELECT {cols}, '{src}' FROM {stage} WHERE reason IS NULL
        ON CONFLICT (account_id) DO UPDATE SET {updates}, source = excluded.source""")
    now = utcnow()
    con.execute(f"""INSERT INTO quarantine SELECT 'accounts', '{src}', source_row, reason, left(raw, 2000), ?
                    FROM {stage} WHERE reason IS NOT NULL""", [now])
    if rejected:
        con.execute(f"""INSERT INTO quarantine SELECT 'accounts', '{src}', source_row, reason, left(raw, 2000), ?
                        FROM ({rejected})""", [now])
        for reason, k in con.execute(f"SELECT reason, count(*) FROM ({rejected}) GROUP BY 1").fetchall():
            fr.reasons[_reason_key(reason)] += k
    for reason, k in con.execute(f"SELECT reason, count(*) FROM {stage} WHERE reason IS NOT NULL GROUP BY 1"
                                 ).fetchall():
        fr.reasons[_reason_key(reason)] += k
    fr.stored = con.execute(f"SELECT count(*) FROM {stage} WHERE reason IS NULL").fetchone()[0]
    fr.quarantined = sum(fr.reasons.values())
    fr.read = fr.stored + fr.quarantined
    fr.examples = [f"{path.name}, row {r}: {reason}" for r, reason in con.execute(
        f"""SELECT source_row, reason FROM quarantine WHERE source = '{src}' AND kind = 'accounts'
            ORDER BY source_row LIMIT {EXAMPLES}""").fetchall()]
    n_ids = _account_identifiers(ws, stage, src)
    con.execute(f"DROP TABLE {stage}")
    ws.log_ingest(sha, str(path), fmt, "accounts", fr.read, fr.stored, fr.quarantined)
    return fr, n_ids


def _account_identifiers(ws: Workspace, stage: str, src: str) -> int:
    """card:, phone:, iban: and wallet identifiers of the stored accounts, via narcotrace.identifiers.

    Cards, IBANs and phones already in E.164 (+7XXXXXXXXXX, what banks and the simulator write) are
    normalised in SQL, which matches identifiers.card/iban/phone for those inputs; other phone spellings
    and wallet addresses go through identifiers.py row by row (few rows).
    """
    con = ws.con
    n = _insert_identifiers(ws, f"""
        SELECT 'card:' || regexp_replace(card, '[^0-9]', '', 'g'), account_id, 'card', '{src}'
        FROM {stage} WHERE reason IS NULL AND length(regexp_replace(card, '[^0-9]', '', 'g')) BETWEEN 12 AND 19
        UNION ALL
        SELECT 'iban:' || upper(regexp_replace(iban, '[^0-9A-Za-z]', '', 'g')), account_id, 'iban', '{src}'
        FROM {stage} WHERE reason IS NULL AND iban IS NOT NULL
        UNION ALL
        SELECT 'phone:' || phone, account_id, 'phone', '{src}'
        FROM {stage} WHERE reason IS NULL AND regexp_full_match(phone, '\\+7[0-9]{{10}}')""")
    rows = con.execute(f"""
        SELECT account_id, phone, NULL, NULL FROM {stage}
        WHERE reason IS NULL AND phone IS NOT NULL AND NOT regexp_full_match(phone, '\\+7[0-9]{{10}}')
        UNION ALL
        SELECT account_id, NULL, lower(coalesce(bank, kind)), address FROM {stage}
        WHERE reason IS NULL AND address IS NOT NULL""").fetchall()
    extra = []
    for account_id, phone, chain, address in rows:
        if phone is not None:
            ident = identifiers.phone(phone)
            if ident:
                extra.append((ident, account_id, "phone", src))
        elif chain in ("btc", "eth", "tron", "ltc", "xmr"):
            extra.append((identifiers.crypto(chain, address), account_id, chain, src))
    n += _insert_identifier_rows(ws, extra)
    return n
