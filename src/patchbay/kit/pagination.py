"""limit/offset pagination as DRF's LimitOffsetPagination answers it, with a cap on limit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from patchbay.kit.db import FixedQuery, Row

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# OFFSET is a 64-bit integer in SQL; past it a page is empty anyway, so larger offsets are clamped.
MAX_OFFSET = 2**63 - 1


def _positive_int(raw: str | None, *, allow_zero: bool) -> int | None:
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        return None
    if value < 0 or (value == 0 and not allow_zero):
        return None
    return value


def query_parameter(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    """An optional query parameter as OpenAPI describes it, for `query_parameters(...)`."""
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def query_parameters(*extra: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI for `limit`, `offset` (and `extra` query parameters) of a list route, given through
    `openapi_extra`: read from the query string by PageParams (DRF's lenient rules) rather than
    declared as FastAPI parameters, which it would validate on every request for nothing."""
    return {
        "parameters": [
            *extra,
            query_parameter(
                "limit",
                f"Number of results to return per page (default {DEFAULT_LIMIT}, at most {MAX_LIMIT}).",
                {"type": "integer"},
            ),
            query_parameter(
                "offset", "The initial index from which to return the results.", {"type": "integer"}
            ),
        ]
    }


@dataclass(frozen=True)
class PageParams:
    limit: int
    offset: int

    @classmethod
    def from_query(cls, query: Mapping[str, str], default_limit: int = DEFAULT_LIMIT) -> PageParams:
        # DRF: an invalid, zero or negative limit means the default; an invalid offset means 0.
        limit = _positive_int(query.get("limit"), allow_zero=False) or default_limit
        offset = _positive_int(query.get("offset"), allow_zero=True) or 0
        return cls(limit=min(limit, MAX_LIMIT), offset=min(offset, MAX_OFFSET))


def _with_query(
    base_url: str, path: str, query: list[tuple[str, str]], changes: dict[str, int | None]
) -> str:
    kept = [(k, v) for k, v in query if k not in changes]
    for key, value in changes.items():
        if value is not None:
            kept.append((key, str(value)))
    qs = urlencode(kept)
    return f"{base_url}{path}" + (f"?{qs}" if qs else "")


def page_response(
    *, base_url: str, path: str, query_string: str, params: PageParams, count: int, results: list[Any]
) -> dict[str, Any]:
    query = parse_qsl(query_string, keep_blank_values=True)
    next_url = None
    if params.offset + params.limit < count:
        next_url = _with_query(
            base_url, path, query, {"limit": params.limit, "offset": params.offset + params.limit}
        )
    previous_url = None
    if params.offset > 0:
        prev_offset = params.offset - params.limit
        previous_url = _with_query(
            base_url, path, query, {"limit": params.limit, "offset": prev_offset if prev_offset > 0 else None}
        )
    return {"count": count, "next": next_url, "previous": previous_url, "results": results}


def page_for_request(
    request: Request, base_url: str, params: PageParams, count: int, results: list[Any]
) -> dict[str, Any]:
    """The page body for `request`, with links on the public site URL and the path as requested."""
    return page_response(
        base_url=base_url,
        path=request.scope.get("patchbay.original_path") or request.url.path,
        query_string=request.url.query,
        params=params,
        count=count,
        results=results,
    )


class PageQuery:
    """A list query for one page and its total: built once with bound parameters, so a hot list
    does not rebuild and re-key a many-column statement on every request."""

    def __init__(self, statement: Select[Any], *, order_by: Sequence[Any], fixed: bool = True) -> None:
        self.statement = statement
        page = (
            statement.add_columns(func.count().over().label("_total"))
            .order_by(*order_by)
            .limit(bindparam("_limit"))
            .offset(bindparam("_offset"))
        )
        # A query built per request stays on Core, whose statement cache makes rebuilding cheap.
        self.page: FixedQuery | Select[Any] = FixedQuery(page) if fixed else page
        self.total = select(func.count()).select_from(statement.order_by(None).subquery())

    async def fetch(self, session: AsyncSession, params: PageParams, **bound: Any) -> tuple[int, list[Row]]:
        """One round trip for the rows and their total (a window count); a second only past the end."""
        values = {**bound, "_limit": params.limit, "_offset": params.offset}
        rows: list[Row]
        if isinstance(self.page, FixedQuery):
            rows = list(await self.page.all(session, values))
        else:
            rows = list((await session.execute(self.page, values)).mappings().all())
        if rows:
            return int(rows[0]["_total"]), rows
        if params.offset == 0:
            return 0, []  # an empty first page: nothing to count
        return int(await session.scalar(self.total, bound) or 0), []


async def fetch_page(
    session: AsyncSession, statement: Select[Any], *, order_by: Sequence[Any], params: PageParams
) -> tuple[int, list[Row]]:
    """A page of a statement built for this request (see PageQuery for hot lists)."""
    return await PageQuery(statement, order_by=order_by, fixed=False).fetch(session, params)
