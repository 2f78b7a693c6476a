"""IBANs (validated with schwifty: country, length, check digits and national rules)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from narcotrace import identifiers
from narcotrace.online.indicators import hints
from narcotrace.online.indicators.base import Extractor, Indicator, Scan

# Two letters, two check digits, then 10-30 letters/digits, optionally in groups of four.
_CANDIDATE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ ]?[A-Za-z0-9]){10,30}(?![A-Za-z0-9])")


class Ibans(Extractor):
    kind = "iban"
    gate = hints.IBAN_START

    def extract(self, scan: Scan) -> Iterator[Indicator]:
        for m in _CANDIDATE.finditer(scan.text):
            raw = m.group()
            # A grouped IBAN may run into the next word ("KZ86 125K ZT50 0410 0100 СРОЧНО" is fine, but
            # "... 0100 ABCD" is not): try the longest prefix that ends on a group boundary first.
            cuts = [len(raw)] + [i for i in range(len(raw) - 1, 14, -1) if raw[i] == " "]
            for cut in cuts:
                candidate = raw[:cut]
                try:
                    iban = IBAN(candidate.upper())
                except (SchwiftyException, ValueError):
                    continue
                start, end = m.start(), m.start() + cut
                if scan.free(start, end):
                    details = {"country": iban.country_code, "bank_code": iban.bank_code}
                    try:
                        if iban.bic is not None:
                            details["bic"] = str(iban.bic)
                    except SchwiftyException:
                        pass
                    yield Indicator("iban", iban.compact, identifiers.iban(iban.compact), None, start, end, details)
                break
