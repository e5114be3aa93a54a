"""Path convertors. `{id:row_id}` matches only ids an integer primary key can hold (1 to 2^31 - 1),
in ASCII digits: a larger number is an unknown path (404, like `/integrations/abc/`), never a
database error. `parse_row_id` applies the same rule to ids parsed by hand (the tenant's)."""

from __future__ import annotations

import re
import uuid

from starlette.convertors import Convertor, register_url_convertor

INT32_MAX = 2**31 - 1


def decimal_up_to(limit: int) -> str:
    """A regex for the decimal numbers 1..limit, written without leading zeros."""
    digits = str(limit)
    alternatives = []
    if len(digits) > 1:
        alternatives.append(f"[1-9][0-9]{{0,{len(digits) - 2}}}")
    for i, digit in enumerate(digits):
        low = 1 if i == 0 else 0
        if int(digit) > low:
            alternatives.append(f"{digits[:i]}[{low}-{int(digit) - 1}][0-9]{{{len(digits) - i - 1}}}")
    alternatives.append(digits)
    return "(?:" + "|".join(alternatives) + ")"


def fits_row_id(value: int) -> bool:
    """Whether an integer primary key can hold `value` (anything else names no row)."""
    return 1 <= value <= INT32_MAX


def parse_row_id(raw: str) -> int | None:
    """What `{id:row_id}` matches, for ids parsed by hand: else None. `int()` alone would take Unicode
    digits ("\u0661" is 1), signs, spaces and underscores: none of those is an id."""
    return int(raw) if _ROW_ID.fullmatch(raw) else None


def parse_uuid(raw: str) -> uuid.UUID | None:
    """A UUID written in ASCII, else None (`uuid.UUID` reads Unicode digits as hex digits)."""
    if not raw.isascii():
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


class RowIdConvertor(Convertor[int]):
    regex = decimal_up_to(INT32_MAX)  # [0-9]: ASCII digits only, unlike \d

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


_ROW_ID = re.compile(RowIdConvertor.regex)
register_url_convertor("row_id", RowIdConvertor())
