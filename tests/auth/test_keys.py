"""Key values: random tokens keep their length and their entropy, base57 spells zero."""

from __future__ import annotations

from patchbay.auth.keys import BASE57, base57, generate_key_value, random_token


def _decode(token: str) -> int:
    number = 0
    for char in token:
        number = number * 57 + BASE57.index(char)
    return number


def test_a_default_token_is_32_random_bytes_with_the_top_bit_set() -> None:
    firsts = set()
    for _ in range(50):
        token = random_token()
        # 2**255 <= n < 2**256 spells in 44 base57 digits, every time
        assert len(token) == 44
        raw = _decode(token).to_bytes(32, "big")
        assert raw[0] & 0x80
        firsts.add(raw[0])
    # the first byte keeps its other seven random bits (only the top one is forced)
    assert len(firsts) > 1
    assert {first & 1 for first in firsts} == {0, 1}


def test_key_values_are_steady_and_distinct() -> None:
    values = {generate_key_value() for _ in range(20)}
    assert len(values) == 20
    assert all(value.startswith("phx_") for value in values)
    # 35 bytes with the top bit set lie across 57**48 (about 2**279.99): 48 or 49 digits
    assert {len(value) for value in values} <= {len("phx_") + 48, len("phx_") + 49}


def test_base57_spells_zero_with_its_first_digit() -> None:
    assert base57(b"\x00\x00") == BASE57[0] == "2"
    assert base57(b"\x01\x00") == "6W"  # 256 = 4 * 57 + 28
    assert BASE57[4] == "6" and BASE57[28] == "W"
