"""Published test vectors for the check-digit and address codecs."""

from narcotrace import codecs


def test_luhn():
    assert codecs.luhn_ok("4111111111111111")
    assert not codecs.luhn_ok("4111111111111112")
    assert codecs.luhn_ok("440043001234567" + codecs.luhn_check_digit("440043001234567"))


def test_base58check_known_addresses():
    genesis = codecs.b58check_decode("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")
    assert genesis is not None and genesis[0] == 0x00 and len(genesis) == 21
    assert codecs.b58check_decode("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb") is None
    tron = codecs.b58check_decode("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t")  # USDT-TRC20 contract
    assert tron is not None and tron[0] == 0x41
    assert codecs.b58check_encode(tron) == "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"


def test_bech32_bip173_bip350_vectors():
    assert codecs.segwit_decode("bc", "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4") is not None
    # bech32m (taproot, BIP-350 vector)
    tr = "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"
    assert codecs.segwit_decode("bc", tr) is not None
    # v1 with a bech32 (not bech32m) checksum is invalid (BIP-350)
    assert codecs.segwit_decode("bc", "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7k7grplx") is None
    assert codecs.segwit_decode("bc", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5") is None
    ver, prog = codecs.segwit_decode("bc", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4")
    assert codecs.segwit_encode("bc", ver, prog) == "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"


def test_eip55():
    good = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    assert codecs.eip55(good[2:]) == good
    assert codecs.eth_address_ok(good)
    assert codecs.eth_address_ok(good.lower())
    assert not codecs.eth_address_ok("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD")
    assert not codecs.eth_address_ok("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA")
