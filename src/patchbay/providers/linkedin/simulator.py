"""LinkedIn's Marketing API ad accounts on loopback, beside the LinkedIn OAuth simulator
(`/oauth/linkedin-ads`): `GET /oauth/linkedin-ads/rest/adAccounts?q=search` with the token that
simulator minted, a `LinkedIn-Version` header required (426 without, as LinkedIn answers), pages
chained by `metadata.nextPageToken`; `GET /oauth/linkedin-ads/rest/conversions?q=account&account=urn:li:
sponsoredAccount:{id}` pages by `start`/`count`. Seed with `add_ad_account(state, name)` and
`add_conversion_rule(state, account_id, name)`."""

from __future__ import annotations

import itertools
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from patchbay.simkit import oauth as _oauth
from patchbay.simkit.state import SandboxState

NAME = "oauth"  # shares the generic OAuth simulator's prefix: the kind's API URL is /oauth/linkedin-ads
KIND_URLS: dict[str, dict[str, str]] = {}
_ids = itertools.count(508_000_001)
_rule_ids = itertools.count(17_000_001)


def add_ad_account(state: SandboxState, name: str, reference: str = "urn:li:organization:2414183") -> int:
    account_id = next(_ids)
    state.provider_data("linkedin-ads").setdefault("accounts", []).append(
        {"id": account_id, "name": name, "reference": reference, "status": "ACTIVE", "type": "BUSINESS"}
    )
    return account_id


def add_conversion_rule(state: SandboxState, account_id: int, name: str) -> int:
    rule_id = next(_rule_ids)
    state.provider_data("linkedin-ads").setdefault("conversions", []).append(
        {
            "id": rule_id,
            "name": name,
            "account": f"urn:li:sponsoredAccount:{account_id}",
            "enabled": True,
            "type": "LEAD",
            "conversionMethod": "CONVERSIONS_API",
            "attributionType": "LAST_TOUCH_BY_CAMPAIGN",
            "campaigns": [],
        }
    )
    return rule_id


def set_page_size(state: SandboxState, size: int) -> None:
    state.provider_data("linkedin-ads")["page_size"] = size


def routes(state: SandboxState) -> list[BaseRoute]:
    def refused(request: Request) -> Response | None:
        issued = _oauth.live_token(state, NAME, _oauth.bearer(request))
        if issued is None or issued.kind != "linkedin-ads":
            return JSONResponse(
                {
                    "status": 401,
                    "serviceErrorCode": 65600,
                    "code": "INVALID_ACCESS_TOKEN",
                    "message": "Invalid access token",
                },
                status_code=401,
            )
        if not request.headers.get("linkedin-version"):
            return JSONResponse(
                {"status": 426, "code": "NONEXISTENT_VERSION", "message": "Requested version is not active"},
                status_code=426,
            )
        return None

    async def conversions(request: Request) -> Response:
        answer = refused(request)
        if answer is not None:
            return answer
        account = request.query_params.get("account", "")
        if request.query_params.get("q") != "account" or not account.startswith("urn:li:sponsoredAccount:"):
            return JSONResponse(
                {"status": 400, "code": "ILLEGAL_ARGUMENT", "message": "Invalid query parameters passed to request"},
                status_code=400,
            )
        data = state.provider_data("linkedin-ads")
        every = [r for r in data.get("conversions", []) if r["account"] == account]
        count = min(int(request.query_params.get("count", 10)), int(data.get("page_size", 100)))
        start = int(request.query_params.get("start", 0))
        return JSONResponse(
            {"elements": every[start : start + count], "paging": {"start": start, "count": count, "total": len(every)}}
        )

    async def ad_accounts(request: Request) -> Response:
        answer = refused(request)
        if answer is not None:
            return answer
        data = state.provider_data("linkedin-ads")
        every: list[dict[str, Any]] = list(data.get("accounts", []))
        size = min(int(request.query_params.get("pageSize", 100)), int(data.get("page_size", 100)))
        start = int(request.query_params.get("pageToken") or 0)
        chunk = every[start : start + size]
        metadata = {"nextPageToken": str(start + size)} if start + size < len(every) else {}
        return JSONResponse(
            {"elements": chunk, "metadata": metadata, "paging": {"start": start, "count": size}}
        )

    return [
        Route("/linkedin-ads/rest/adAccounts", ad_accounts, methods=["GET"]),
        Route("/linkedin-ads/rest/conversions", conversions, methods=["GET"]),
    ]
