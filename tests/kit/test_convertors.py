"""`{id:row_id}`: only ids an integer primary key can hold match the route."""

from __future__ import annotations

import re
import uuid

import pytest

from patchbay.kit.convertors import INT32_MAX, RowIdConvertor, decimal_up_to, parse_row_id, parse_uuid


@pytest.mark.parametrize("limit", [1, 9, 10, 57, 100, 509, 1000, 2024, INT32_MAX])
def test_decimal_up_to_matches_exactly_one_to_limit(limit: int) -> None:
    pattern = re.compile(decimal_up_to(limit))
    probes = set(range(0, min(limit, 3000) + 50)) | {limit - 1, limit, limit + 1, 10 * limit, limit * 7 // 3}
    for n in sorted(probes):
        assert bool(pattern.fullmatch(str(n))) == (1 <= n <= limit), n


def test_row_id_rejects_what_the_column_cannot_hold() -> None:
    pattern = re.compile(RowIdConvertor.regex)
    for text in ("1", "42", "2147483647", "999999999"):
        assert pattern.fullmatch(text)
    for text in ("0", "2147483648", "9999999999", "99999999999999", "-1", "1e3", "01x"):
        assert not pattern.fullmatch(text)


@pytest.mark.parametrize("text", ["\u0661", "\u0967", "\uff11", "+1", " 1", "1 ", "1_0", "01", "-1", "0", "", "2147483648"])
def test_parse_row_id_takes_ascii_digits_only(text: str) -> None:
    assert parse_row_id(text) is None


def test_parse_row_id_reads_what_the_route_matches() -> None:
    assert [parse_row_id(t) for t in ("1", "10", "2147483647")] == [1, 10, 2147483647]


def test_parse_uuid_takes_ascii_only() -> None:
    value = uuid.uuid4()
    assert parse_uuid(str(value)) == value
    assert parse_uuid("\u0661" * 32) is None  # uuid.UUID alone reads it as 1111…
    assert parse_uuid("not-a-uuid") is None
