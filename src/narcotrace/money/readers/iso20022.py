"""ISO 20022 XML: pacs.008 (FIToFICustomerCreditTransfer) and camt.053 (BankToCustomerStatement).

Parsed as a stream with defusedxml (expat): a DTD, entity declarations and external references are refused
outright, since ISO 20022 messages never need them and they are how entity bombs (billion laughs) and XXE
files attack parsers. Such a file, or XML that breaks off, yields one quarantined row naming the file,
the transaction reached and the parser's line/column, after the transactions read before the fault.
Any namespace version (.02 to .13) and the SWIFT envelope (AppHdr + Document) are accepted: elements are
matched by local name.

pacs.008: one transfer per CdtTrfTxInf. Id: UETR, else MsgId/TxId|EndToEndId|InstrId. Amount:
IntrBkSttlmAmt (InstdAmt when absent). Time: AccptncDtTm, else the group header's CreDtTm, else
IntrBkSttlmDt. Accounts: DbtrAcct/CdtrAcct Id/IBAN or Id/Othr/Id. Banks: DbtrAgt/CdtrAgt BICFI (BIC),
else the clearing member id.

camt.053: one transfer per TxDtls (per Ntry when it has none). CdtDbtInd decides the direction relative to
the statement account (CRDT: counterparty -> statement account; DBIT: statement account -> counterparty);
the counterparty comes from RltdPties (DbtrAcct/CdtrAcct, else `name:` + the party's name) and its bank
from RltdAgts.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError, tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from narcotrace.money.readers.base import BatchBuilder, Staged, TransferReader


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def child(el: Element | None, *path: str) -> Element | None:
    """The first descendant along `path` of local names (namespaces ignored)."""
    for name in path:
        if el is None:
            return None
        el = next((c for c in el if local(c.tag) == name), None)
    return el


def text(el: Element | None, *path: str) -> str | None:
    e = child(el, *path)
    if e is None or e.text is None:
        return None
    t = e.text.strip()
    return t or None


def parse_time(value: str | None) -> datetime | None:
    """ISO date or date-time; offsets converted to UTC; naive values taken as UTC."""
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return dt


def parse_amount(el: Element | None) -> tuple[float | None, str | None, str | None]:
    if el is None:
        return None, None, None
    raw = (el.text or "").strip()
    try:
        value = float(raw)
    except ValueError:
        value = None
    return value, raw, el.get("Ccy")


def account_id(acct: Element | None) -> str | None:
    return text(acct, "Id", "IBAN") or text(acct, "Id", "Othr", "Id")


def agent_id(agent: Element | None) -> str | None:
    return (text(agent, "FinInstnId", "BICFI") or text(agent, "FinInstnId", "BIC")
            or text(agent, "FinInstnId", "ClrSysMmbId", "MmbId") or text(agent, "FinInstnId", "Othr", "Id"))


def party_name(party: Element | None) -> str | None:
    name = text(party, "Nm") or text(party, "Pty", "Nm")
    return f"name:{name}" if name else None


def remittance(el: Element | None) -> str | None:
    rmt = child(el, "RmtInf")
    if rmt is None:
        return None
    parts = [c.text.strip() for c in rmt if local(c.tag) == "Ustrd" and c.text and c.text.strip()]
    return " ".join(parts) or None


def raw_xml(el: Element) -> str:
    return tostring(el, encoding="unicode")[:2000]


class _XmlReader(TransferReader):
    """Streams one XML file, element by element, into STAGE batches; faults become one rejected row."""

    record_tag = ""

    def stage(self, con: Any, path: Path) -> Staged:
        return Staged(batches=self._batches(path))

    def _batches(self, path: Path) -> Iterator[Any]:
        builder = BatchBuilder()
        for row in self.rows(path):
            batch = builder.add(row)
            if batch is not None:
                yield batch
        last = builder.flush()
        if last is not None:
            yield last

    def rows(self, path: Path) -> Iterator[dict[str, Any]]:
        n = 0
        stack: list[str] = []
        ctx: dict[str, Any] = {}
        try:
            for event, el in iterparse(str(path), events=("start", "end"), forbid_dtd=True,
                                       forbid_entities=True, forbid_external=True):
                if event == "start":
                    stack.append(local(el.tag))
                    continue
                stack.pop()
                for row in self.on_end(local(el.tag), el, stack, ctx):
                    n += 1
                    row["source_row"] = n
                    yield row
        except (ParseError, DefusedXmlException) as e:
            yield self.fault(n + 1, e)
            return
        except OSError as e:
            yield self.fault(n + 1, e)

    @staticmethod
    def fault(row: int, e: Exception) -> dict[str, Any]:
        if isinstance(e, DefusedXmlException):
            reason = ("malformed XML: DTD, entity or external reference refused (entity bomb / XXE guard): "
                      f"{type(e).__name__}")
        elif isinstance(e, ParseError):
            reason = f"malformed XML: {e}"
        else:
            reason = f"unreadable XML: {e}"
        return {"source_row": row, "reject": reason, "raw": f"(file unreadable from transaction {row} on)"}

    def on_end(self, tag: str, el: Element, stack: list[str], ctx: dict[str, Any]) -> list[dict[str, Any]]:
        raise NotImplementedError


class Pacs008Reader(_XmlReader):
    name = "pacs008"

    def on_end(self, tag: str, el: Element, stack: list[str], ctx: dict[str, Any]) -> list[dict[str, Any]]:
        if tag == "GrpHdr":
            ctx["msg_id"] = text(el, "MsgId")
            ctx["created"] = text(el, "CreDtTm")
            ctx["settled"] = text(el, "IntrBkSttlmDt")
            el.clear()
            return []
        if tag != "CdtTrfTxInf":
            return []
        amount, amount_raw, ccy = parse_amount(child(el, "IntrBkSttlmAmt"))
        if amount_raw is None:
            amount, amount_raw, ccy = parse_amount(child(el, "InstdAmt"))
        ts_raw = text(el, "AccptncDtTm") or ctx.get("created") or text(el, "IntrBkSttlmDt") or ctx.get("settled")
        ref = text(el, "PmtId", "TxId") or _e2e(text(el, "PmtId", "EndToEndId")) or text(el, "PmtId", "InstrId")
        tid = text(el, "PmtId", "UETR") or (f"{ctx.get('msg_id')}/{ref}" if ref else None)
        row = {
            "transfer_id": tid,
            "timestamp": parse_time(ts_raw), "timestamp_raw": ts_raw,
            "from_account": account_id(child(el, "DbtrAcct")) or party_name(child(el, "Dbtr")),
            "to_account": account_id(child(el, "CdtrAcct")) or party_name(child(el, "Cdtr")),
            "from_bank": agent_id(child(el, "DbtrAgt")), "to_bank": agent_id(child(el, "CdtrAgt")),
            "amount": amount, "amount_raw": amount_raw, "currency": ccy,
            "channel": "wire", "description": remittance(el), "raw": raw_xml(el),
        }
        el.clear()
        return [row]


def _e2e(value: str | None) -> str | None:
    # "NOTPROVIDED" is the standard's placeholder, not an id.
    return None if value is None or value.upper() == "NOTPROVIDED" else value


class Camt053Reader(_XmlReader):
    name = "camt053"

    def on_end(self, tag: str, el: Element, stack: list[str], ctx: dict[str, Any]) -> list[dict[str, Any]]:
        if tag == "Acct" and stack and stack[-1] == "Stmt":
            ctx["account"] = account_id(el)
            ctx["bank"] = agent_id(child(el, "Svcr"))
            return []
        if tag == "Id" and stack and stack[-1] == "Stmt":
            ctx["stmt_id"] = (el.text or "").strip()
            return []
        if tag != "Ntry":
            return []
        rows = []
        details = [d for d in el.iter() if local(d.tag) == "TxDtls"]
        credit = (text(el, "CdtDbtInd") or "").upper() == "CRDT"
        ts_raw = (text(el, "BookgDt", "DtTm") or text(el, "BookgDt", "Dt") or text(el, "ValDt", "DtTm")
                  or text(el, "ValDt", "Dt"))
        entry_amt = parse_amount(child(el, "Amt"))
        entry_ref = text(el, "AcctSvcrRef") or text(el, "NtryRef")
        for k, tx in enumerate(details or [None], start=1):
            if tx is not None:
                amt = parse_amount(child(tx, "AmtDtls", "TxAmt", "Amt"))
                if amt[1] is None:
                    amt = parse_amount(child(tx, "Amt"))
                if amt[1] is None and len(details) == 1:
                    amt = entry_amt
                parties, agents = child(tx, "RltdPties"), child(tx, "RltdAgts")
                side = ("Dbtr", "DbtrAcct", "DbtrAgt") if credit else ("Cdtr", "CdtrAcct", "CdtrAgt")
                party = child(parties, side[0])
                other = account_id(child(parties, side[1])) or party_name(party)
                other_bank = agent_id(child(agents, side[2]))
                ref = (text(tx, "Refs", "UETR") or text(tx, "Refs", "AcctSvcrRef") or text(tx, "Refs", "TxId")
                       or _e2e(text(tx, "Refs", "EndToEndId")))
                desc = remittance(tx) or text(tx, "AddtlTxInf") or text(el, "AddtlNtryInf")
                raw = raw_xml(tx)
            else:
                amt, other, other_bank, ref = entry_amt, None, None, None
                desc, raw = text(el, "AddtlNtryInf"), raw_xml(el)
            if ref and len(details) > 1:
                ref = f"{ref}/{k}"  # batch entries may repeat the entry's reference in each TxDtls
            ref = ref or (f"{entry_ref}/{k}" if entry_ref else None)
            mine = ctx.get("account")
            row = {
                "transfer_id": f"{mine or ctx.get('stmt_id')}/{ref}" if ref else None,
                "timestamp": parse_time(ts_raw), "timestamp_raw": ts_raw,
                "from_account": other if credit else mine, "to_account": mine if credit else other,
                "from_bank": other_bank if credit else ctx.get("bank"),
                "to_bank": ctx.get("bank") if credit else other_bank,
                "amount": amt[0], "amount_raw": amt[1], "currency": amt[2],
                "channel": "statement", "description": desc, "raw": raw,
            }
            if other is None:
                row["reject"] = "missing account: the entry names no counterparty account or name"
            rows.append(row)
        el.clear()
        return rows
