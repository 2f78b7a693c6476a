"""Canonical table schemas of the workspace, in one place, with their schema version and migrations.

Readers convert into these tables; exports convert out of them. Each column carries a short doc
string that docs/formats.md repeats. To change a table: bump SCHEMA_VERSION and append a migration
(SQL run once, in order, on workspaces created at an older version).
"""

from __future__ import annotations

from dataclasses import dataclass, field

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    doc: str = ""


@dataclass(frozen=True)
class Table:
    """A canonical table: its name, what it holds, its columns and primary key."""

    name: str
    doc: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = field(default_factory=tuple)

    def ddl(self) -> str:
        cols = [f'"{c.name}" {c.type}' for c in self.columns]
        if self.primary_key:
            cols.append("PRIMARY KEY (" + ", ".join(f'"{k}"' for k in self.primary_key) + ")")
        return f'CREATE TABLE IF NOT EXISTS "{self.name}" (\n  ' + ",\n  ".join(cols) + "\n)"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _t(name: str, doc: str, cols: list[tuple[str, str, str]], pk: tuple[str, ...] = ()) -> Table:
    return Table(name, doc, tuple(Column(*c) for c in cols), pk)


PROVENANCE = [
    ("source", "VARCHAR", "file path or URL the row was read from"),
    ("source_row", "BIGINT", "position in the source (line, row, message index or WARC offset)"),
    ("captured_at", "TIMESTAMP", "when narcotrace read or fetched the raw content (UTC)"),
    ("sha256", "VARCHAR", "sha256 of the raw bytes of this row/message/page"),
]

TABLES: dict[str, Table] = {
    t.name: t
    for t in [
        _t("meta", "Workspace metadata: schema version and creation time.", [
            ("key", "VARCHAR", "setting name"),
            ("value", "VARCHAR", "setting value"),
        ], ("key",)),
        _t("audit_log", "Every decision and export, with who, when and what.", [
            ("at", "TIMESTAMP", "when (UTC)"),
            ("actor", "VARCHAR", "who (user name or 'system')"),
            ("action", "VARCHAR", "what was done: ingest, scan, approve, reject, export, ..."),
            ("target", "VARCHAR", "what it was done to (post id, alert id, file path)"),
            ("details", "JSON", "parameters, counts, reasons"),
        ]),
        _t("ingest_log", "Files read into the workspace, so re-reading the same file adds nothing.", [
            ("file_sha256", "VARCHAR", "sha256 of the whole input file"),
            ("path", "VARCHAR", "path as given"),
            ("format", "VARCHAR", "reader used"),
            ("kind", "VARCHAR", "posts | transfers | accounts"),
            ("rows_read", "BIGINT", "rows read"),
            ("rows_stored", "BIGINT", "rows stored"),
            ("rows_quarantined", "BIGINT", "rows quarantined"),
            ("ingested_at", "TIMESTAMP", "when (UTC)"),
        ]),
        _t("quarantine", "Input rows that could not be stored, with the reason; nothing is lost silently.", [
            ("kind", "VARCHAR", "posts | transfers | accounts"),
            ("source", "VARCHAR", "file path or URL"),
            ("source_row", "BIGINT", "line/row/message number in the source (1-based)"),
            ("reason", "VARCHAR", "why it was not stored"),
            ("raw", "VARCHAR", "the raw row, truncated to 2000 characters"),
            ("quarantined_at", "TIMESTAMP", "when (UTC)"),
        ]),
        # ---- online pillar -------------------------------------------------------------------
        _t("posts", "Posts, messages and pages with their classification.", [
            ("post_id", "VARCHAR", "the input's id (JSONL/CSV), 'chat_id/message_id' (Telegram), URL (HTML/WARC)"),
            ("source_format", "VARCHAR", "jsonl | csv | telegram | html | warc"),
            *PROVENANCE,
            ("channel", "VARCHAR", "chat, channel, group or site where it appeared"),
            ("author", "VARCHAR", "author name or id, where known"),
            ("date", "TIMESTAMP", "when it was posted (UTC), where known"),
            ("url", "VARCHAR", "URL of the post or page, where known"),
            ("text", "VARCHAR", "original text"),
            ("lang", "VARCHAR", "detected language: ru | kk | en | mixed"),
            ("score", "DOUBLE", "calibrated probability that the post sells drugs or recruits couriers"),
            ("label", "VARCHAR", "sale | recruitment | none"),
            ("categories", "VARCHAR[]", "drug categories named"),
            ("explanation", "JSON", "spans and features that drove the score"),
            ("model_version", "VARCHAR", "classifier version"),
            ("scanned_at", "TIMESTAMP", "when it was classified (UTC)"),
        ]),  # No PRIMARY KEY on purpose, as for transfers: scan keeps post_id unique (delete-then-insert per
        #     write), and the key index cost ~6 µs a post and ~41 bytes of memory a post during a big scan.
        _t("indicators", "Contact and payment indicators extracted from posts, validated and normalised.", [
            ("post_id", "VARCHAR", "post it was found in"),
            ("kind", "VARCHAR", "telegram | url | domain | onion | email | phone | card | iban | crypto"),
            ("value", "VARCHAR", "normalised value (handle lower-case without @, E.164 phone, card digits, ...)"),
            ("canonical_id", "VARCHAR", "canonical identifier shared with the money pillar, e.g. card:4400..."),
            ("chain", "VARCHAR", "btc | eth | tron | ltc | xmr for crypto, else NULL"),
            ("span_start", "INTEGER", "start offset in the original text"),
            ("span_end", "INTEGER", "end offset in the original text"),
            ("details", "JSON", "validation details: issuer, BIN, is_bot, ..."),
            ("extractor_version", "VARCHAR", "version of the extractor"),
        ]),
        _t("decisions", "Analysts' review decisions on posts, shops and alerts.", [
            ("decision_id", "VARCHAR", "unique id"),
            ("target_kind", "VARCHAR", "post | shop | alert | channel"),
            ("target_id", "VARCHAR", "id of the post, shop, alert or channel"),
            ("decision", "VARCHAR", "approve | reject (posts, shops, channels); confirm | dismiss | in_review (alerts)"),
            ("label", "VARCHAR", "corrected label for training (sale | recruitment | none), where given"),
            ("reason", "VARCHAR", "why"),
            ("reviewer", "VARCHAR", "who"),
            ("decided_at", "TIMESTAMP", "when (UTC)"),
        ], ("decision_id",)),
        # ---- money pillar --------------------------------------------------------------------
        _t("accounts", "Bank accounts, cards, wallets and cash-out points, with their identifiers.", [
            ("account_id", "VARCHAR", "account id as used in transfers"),
            ("kind", "VARCHAR", "bank | wallet | exchanger | cash | foreign"),
            ("bank", "VARCHAR", "bank name or code (chain for wallets)"),
            ("country", "VARCHAR", "ISO 3166 alpha-2"),
            ("holder_id", "VARCHAR", "person or business holding the account"),
            ("holder_name", "VARCHAR", "holder's name (synthetic or pseudonymised)"),
            ("holder_kind", "VARCHAR", "person | business"),
            ("card", "VARCHAR", "card number, digits only"),
            ("phone", "VARCHAR", "phone in E.164"),
            ("iban", "VARCHAR", "IBAN"),
            ("address", "VARCHAR", "crypto address for wallets"),
            ("currency", "VARCHAR", "account currency"),
            ("opened_at", "TIMESTAMP", "when opened"),
            ("source", "VARCHAR", "file it came from"),
        ], ("account_id",)),
        _t("account_identifiers", "Canonical identifiers (card:, phone:, iban:, btc:, tron:, ...) of each account.", [
            ("identifier", "VARCHAR", "canonical identifier"),
            ("account_id", "VARCHAR", "account it belongs to"),
            ("kind", "VARCHAR", "card | phone | iban | btc | eth | tron | ltc | xmr"),
            ("source", "VARCHAR", "transfers | registry file | simulator"),
        ]),
        _t("transfers", "Money transfers in one canonical shape, whatever the input format.", [
            ("transfer_id", "VARCHAR", "unique id (the input's, or derived from the row)"),
            ("timestamp", "TIMESTAMP", "when (UTC)"),
            ("from_account", "VARCHAR", "paying account"),
            ("to_account", "VARCHAR", "receiving account"),
            ("from_bank", "VARCHAR", "paying bank"),
            ("to_bank", "VARCHAR", "receiving bank"),
            ("amount", "DOUBLE", "amount in the transfer's currency"),
            ("currency", "VARCHAR", "ISO 4217 code (USDT, BTC for crypto)"),
            ("amount_base", "DOUBLE", "amount converted to the base currency (KZT)"),
            ("channel", "VARCHAR", "payment channel: card_p2p, phone_p2p, salary, merchant, atm, crypto, swift, ..."),
            ("description", "VARCHAR", "payment reference, where any"),
            ("source", "VARCHAR", "file it came from"),
            ("source_row", "BIGINT", "row in that file (CSV: data row, 1 = first row after the header; XML: "
                                     "transaction number in the file)"),
            ("file_sha256", "VARCHAR", "sha256 of the whole input file"),
        ]),  # No PRIMARY KEY on purpose: a key index on tens of millions of VARCHAR ids costs GiBs of memory
        #     and slows bulk inserts; ingest keeps transfer_id unique with an anti-join (money/ingest.py).
        _t("transfer_labels", "Labels that came with the transfers (IBM 'Is Laundering', AMLSim SAR flags), for training.", [
            ("transfer_id", "VARCHAR", "transfer labelled"),
            ("label", "INTEGER", "1 = laundering / suspicious, 0 = not"),
            ("typology", "VARCHAR", "pattern or alert type named by the source, where any"),
            ("source", "VARCHAR", "ibm_aml | amlsim | file path of a labels file"),
        ]),
        _t("alerts", "Accounts flagged for review, with score, reasons, evidence and status.", [
            ("alert_id", "VARCHAR", "unique id"),
            ("account_id", "VARCHAR", "account flagged"),
            ("score", "DOUBLE", "calibrated risk score 0..1"),
            ("role", "VARCHAR", "suspected role: drop | collector | exchanger | cash_out | laundering"),
            ("typologies", "VARCHAR[]", "typologies hit"),
            ("reasons", "VARCHAR[]", "human-readable reasons"),
            ("evidence_transfer_ids", "VARCHAR[]", "transfers that support the alert"),
            ("model_version", "VARCHAR", "scoring model or rules version"),
            ("status", "VARCHAR", "new | in_review | confirmed | dismissed"),
            ("created_at", "TIMESTAMP", "when (UTC)"),
            ("updated_at", "TIMESTAMP", "last status change (UTC)"),
            ("updated_by", "VARCHAR", "who changed the status last"),
            ("status_reason", "VARCHAR", "why the status was last changed"),
        ], ("alert_id",)),
        _t("alert_events", "History of every alert status change: who, when, why (new -> in_review -> confirmed/dismissed).", [
            ("event_id", "VARCHAR", "unique id"),
            ("alert_id", "VARCHAR", "alert changed"),
            ("at", "TIMESTAMP", "when (UTC)"),
            ("actor", "VARCHAR", "who"),
            ("from_status", "VARCHAR", "status before"),
            ("to_status", "VARCHAR", "status after"),
            ("reason", "VARCHAR", "why"),
        ], ("event_id",)),
        _t("typology_hits", "Laundering shapes found in the transfers, each explained by the accounts and transfers that form it.", [
            ("hit_id", "VARCHAR", "unique, stable id: typology, anchor account or transfer, time window"),
            ("typology", "VARCHAR", "fan_in | fan_out | cycle | bipartite | stack | scatter_gather | gather_scatter | random_chain | rapid_pass_through | structuring"),
            ("account_ids", "VARCHAR[]", "accounts that form the shape (anchor account first where there is one)"),
            ("transfer_ids", "VARCHAR[]", "transfers that form the shape (at most `max_evidence` per hit)"),
            ("amount", "DOUBLE", "money moved by the shape (base currency)"),
            ("first_ts", "TIMESTAMP", "first transfer of the shape (UTC)"),
            ("last_ts", "TIMESTAMP", "last transfer of the shape (UTC)"),
            ("explanation", "VARCHAR", "one sentence saying what was found"),
        ], ("hit_id",)),
        _t("account_scores", "Risk score and suspected role of every account seen in transfers, from the last `analyze`.", [
            ("account_id", "VARCHAR", "account scored"),
            ("score", "DOUBLE", "calibrated risk 0..1 (rules-only: a rules score 0..1)"),
            ("role", "VARCHAR", "suspected role: normal | drop | collector | exchanger | cash_out | laundering"),
            ("role_score", "DOUBLE", "probability of the suspected role"),
            ("typologies", "VARCHAR[]", "typologies the account takes part in"),
            ("model_version", "VARCHAR", "model or rules version"),
            ("scored_at", "TIMESTAMP", "when (UTC)"),
        ], ("account_id",)),
        _t("transfer_scores", "Risk of single transfers (both ends' scores and the shapes the transfer belongs to).", [
            ("transfer_id", "VARCHAR", "transfer scored"),
            ("score", "DOUBLE", "risk 0..1"),
            ("typologies", "VARCHAR[]", "typologies the transfer is part of"),
            ("model_version", "VARCHAR", "model or rules version"),
        ], ("transfer_id",)),
        # ---- channels ------------------------------------------------------------------------
        _t("channels", "Drug channels: a shop with its posts and handles, the drops that collect its payments, "
           "the collectors behind them and where the money leaves.", [
            ("channel_id", "VARCHAR", "stable id of the channel (derived from its strongest identifier)"),
            ("name", "VARCHAR", "brand or main handle"),
            ("confidence", "DOUBLE", "0..1: how sure the link between the shop and its money is"),
            ("total_volume", "DOUBLE", "drug money attributed to the channel, in the base currency (KZT)"),
            ("first_seen", "TIMESTAMP", "first post or payment"),
            ("last_seen", "TIMESTAMP", "last post or payment"),
            ("cities", "VARCHAR[]", "cities named in its ads"),
            ("n_posts", "BIGINT", "sale and recruitment posts"),
            ("n_accounts", "BIGINT", "accounts and wallets in the channel"),
            ("built_at", "TIMESTAMP", "when `narcotrace channels` built it (UTC)"),
            ("version", "VARCHAR", "version of the channel builder"),
        ], ("channel_id",)),
        _t("channel_members", "What a channel is made of: posts, indicators and accounts, each with its role and evidence.", [
            ("channel_id", "VARCHAR", "channel"),
            ("member_kind", "VARCHAR", "post | indicator | account"),
            ("member_id", "VARCHAR", "post id, canonical identifier or account id"),
            ("role", "VARCHAR", "post: sale | recruitment | none (a post the classifier doubted, attached by the shop's "
                                "identifiers); indicator: the identifier's kind (telegram | domain | card | phone | "
                                "iban | btc | tron | ...); account: drop | wallet | collector | exchanger | cash_out"),
            ("score", "DOUBLE", "0..1 confidence of this member's role"),
            ("volume", "DOUBLE", "money attributed through this member (accounts), base currency"),
            ("evidence", "JSON", "why: post ids naming it, transfer ids, trace amounts"),
        ]),
    ]
}

# Migrations: version -> SQL statements that bring a workspace from version-1 to version.
MIGRATIONS: dict[int, list[str]] = {}


def get(name: str) -> Table:
    return TABLES[name]
