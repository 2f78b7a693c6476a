"""Every card, phone, IBAN, wallet and onion in the world is valid by its own checksum."""

from __future__ import annotations

import pyarrow.parquet as pq
from schwifty import IBAN

from narcotrace import identifiers
from narcotrace.codecs import b58check_decode, eip55, luhn_ok, segwit_decode
from narcotrace.sim import ids


def _accounts(small_world):
    out, _ = small_world
    return pq.read_table(out / "accounts.parquet").to_pylist()


def test_cards_are_luhn_valid_under_their_banks_bins(small_world):
    bins = {b.code: set(b.bins) for b in ids.bank_book().banks}
    cards = [(r["card"], r["bank"]) for r in _accounts(small_world) if r["card"]]
    assert len(cards) > 1000
    assert len({c for c, _ in cards}) == len(cards), "card numbers repeat"
    for card, bank in cards:
        assert len(card) == 16 and luhn_ok(card), card
        assert card[:6] in bins[bank], (card, bank)


def test_phones_are_valid_kazakh_mobiles(small_world):
    phones = [r["phone"] for r in _accounts(small_world) if r["phone"]]
    assert len(phones) > 1000 and len(set(phones)) == len(phones)
    for p in phones:
        assert identifiers.phone(p) == "phone:" + p, p
        assert p[:5] in {"+7" + c for c in ids.KZ_MOBILE_CODES}, p


def test_ibans_are_valid_and_name_the_bank(small_world):
    codes = {b.code: b.iban_bank_code for b in ids.bank_book().banks}
    n = 0
    for r in _accounts(small_world):
        if r["iban"]:
            iban = IBAN(r["iban"])  # raises on a bad checksum, length or format
            if r["country"] == "KZ":
                assert r["account_id"] == r["iban"]
                assert iban.bank_code == codes[r["bank"]], r
            n += 1
    assert n > 1000


def test_wallets_have_valid_checksums_and_canonical_ids(small_world):
    out, _ = small_world
    wallets = [r for r in _accounts(small_world) if r["address"]]
    assert {w["bank"] for w in wallets} >= {"tron", "btc"}
    for w in wallets:
        addr, chain = w["address"], w["bank"]
        assert w["account_id"] == identifiers.crypto(chain, addr)
        if chain == "tron":
            payload = b58check_decode(addr)
            assert payload is not None and payload[0] == 0x41 and len(payload) == 21, addr
        elif chain == "btc":
            if addr.startswith("bc1"):
                assert segwit_decode("bc", addr) is not None, addr
            else:
                payload = b58check_decode(addr)
                assert payload is not None and payload[0] == 0 and len(payload) == 21, addr
        elif chain == "eth":
            assert eip55(addr[2:]) == addr, addr
    shops = pq.read_table(out / "truth" / "channels.parquet").to_pylist()
    for s in shops:
        if s["onion"]:
            assert ids.onion_v3_ok(s["onion"]), s["onion"]


def test_generators_reject_what_they_should():
    assert not ids.onion_v3_ok("a" * 56 + ".onion")
    bad = list(ids.cards(__import__("numpy").random.default_rng(1), ["440043"])[0])
    bad[-1] = str((int(bad[-1]) + 1) % 10)
    assert not luhn_ok("".join(bad))
