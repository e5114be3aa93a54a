from __future__ import annotations

import pytest

from patchbay.kit.pagination import MAX_LIMIT, PageParams, page_response


@pytest.mark.parametrize(
    ("query", "limit", "offset"),
    [({}, 100, 0), ({"limit": "0"}, 100, 0), ({"limit": "-5"}, 100, 0), ({"limit": "x"}, 100, 0),
     ({"limit": "7", "offset": "3"}, 7, 3), ({"offset": "-1"}, 100, 0), ({"limit": "99999"}, MAX_LIMIT, 0)],
)  # fmt: skip
def test_page_params(query: dict[str, str], limit: int, offset: int) -> None:
    assert PageParams.from_query(query) == PageParams(limit, offset)


def test_links_keep_other_parameters() -> None:
    page = page_response(base_url="https://pb.example", path="/x", query_string="kind=slack&limit=2&offset=2",
                         params=PageParams(2, 2), count=10, results=[])  # fmt: skip
    assert page["next"] == "https://pb.example/x?kind=slack&limit=2&offset=4"
    assert page["previous"] == "https://pb.example/x?kind=slack&limit=2"
