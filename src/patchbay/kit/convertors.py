"""Path convertors. `{id:row_id}` matches only ids an integer primary key can hold (1 to 2^31 - 1):
a larger number is an unknown path (404, like `/integrations/abc/`), never a database error."""

from __future__ import annotations

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


class RowIdConvertor(Convertor[int]):
    regex = decimal_up_to(INT32_MAX)

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("row_id", RowIdConvertor())
