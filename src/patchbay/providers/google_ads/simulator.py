"""The Google Ads API on loopback, beside Google's OAuth simulator (`/google`,
sandbox/providers/google.py; the google-ads kind's API URL): `GET /v24/customers:listAccessibleCustomers`
and `POST /v24/customers/{id}/googleAds:searchStream` answering the customer_client and
conversion_action queries PostHog sends. A bearer token minted by that simulator for google-ads and a
`developer-token` header are required; `login-customer-id` must name a root that reaches the account.
Errors are Google's `{"error": {"code", "message", "status"}}`.

Seed with `add_account(state, root, id, name, level=0, manager=False)` (a root is listed as accessible)
and `add_conversion_action(state, customer_id, name)`."""

from __future__ import annotations

import itertools
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from patchbay.simkit import oauth as _oauth
from patchbay.simkit.state import SandboxState

NAME = "google"
KIND_URLS: dict[str, dict[str, str]] = {}  # the google-ads kind's URLs come from Google's OAuth simulator
DEVELOPER_TOKEN = "sandbox-developer-token"
_action_ids = itertools.count(900_001)


def extra_env(base_url: str) -> dict[str, str]:
    return {"PATCHBAY_GOOGLE_ADS_DEVELOPER_TOKEN": DEVELOPER_TOKEN}


def _data(state: SandboxState) -> dict[str, Any]:
    return state.provider_data("google-ads")


def add_account(
    state: SandboxState,
    root: str,
    account_id: str,
    name: str,
    *,
    level: int = 0,
    manager: bool = False,
    status: str = "ENABLED",
) -> None:
    data = _data(state)
    if root not in data.setdefault("roots", []):
        data["roots"].append(root)
    data.setdefault("clients", {}).setdefault(root, []).append(
        {"id": account_id, "name": name, "level": level, "manager": manager, "status": status}
    )


def add_conversion_action(state: SandboxState, customer_id: str, name: str) -> str:
    action_id = str(next(_action_ids))
    _data(state).setdefault("conversions", {}).setdefault(customer_id, []).append(
        {"id": action_id, "name": name}
    )
    return action_id


def _error(status: int, message: str, code: str) -> JSONResponse:
    return JSONResponse({"error": {"code": status, "message": message, "status": code}}, status_code=status)


def routes(state: SandboxState) -> list[BaseRoute]:
    def refused(request: Request) -> Response | None:
        issued = _oauth.live_token(state, NAME, _oauth.bearer(request))
        if issued is None or issued.kind != "google-ads":
            return _error(401, "Request is missing required authentication credential.", "UNAUTHENTICATED")
        if request.headers.get("developer-token") != DEVELOPER_TOKEN:
            return _error(401, "The developer token is not valid.", "UNAUTHENTICATED")
        return None

    async def accessible(request: Request) -> Response:
        refusal = refused(request)
        if refusal is not None:
            return refusal
        roots = _data(state).get("roots", [])
        return JSONResponse({"resourceNames": [f"customers/{r}" for r in roots]} if roots else {})

    async def search_stream(request: Request) -> Response:
        refusal = refused(request)
        if refusal is not None:
            return refusal
        customer = request.path_params["customer_id"]
        query = str((await request.json()).get("query", ""))
        data = _data(state)
        if "FROM customer_client" in query:
            rows = []
            for client in data.get("clients", {}).get(customer, []):
                shaped: dict[str, Any] = {
                    "resourceName": f"customers/{customer}/customerClients/{client['id']}",
                    "clientCustomer": f"customers/{client['id']}",
                    "descriptiveName": client["name"],
                    "manager": client["manager"],
                    "status": client["status"],
                }
                if client["level"]:
                    shaped["level"] = str(client["level"])  # proto3 JSON: 0 omitted, int64 as a string
                rows.append({"customerClient": shaped})
            return JSONResponse(
                [{"results": rows, "fieldMask": "customerClient.descriptiveName", "requestId": "r1"}]
            )
        if "FROM conversion_action" in query:
            login = request.headers.get("login-customer-id") or customer
            reachable = customer == login or any(
                c["id"] == customer for c in data.get("clients", {}).get(login, [])
            )
            if not reachable:
                return _error(403, "User doesn't have permission to access customer.", "PERMISSION_DENIED")
            rows = [
                {
                    "conversionAction": {
                        "resourceName": f"customers/{customer}/conversionActions/{a['id']}",
                        "id": a["id"],
                        "name": a["name"],
                    }
                }
                for a in data.get("conversions", {}).get(customer, [])
            ]
            return JSONResponse([{"results": rows, "requestId": "r2"}] if rows else [])
        return _error(400, "Query not supported by the sandbox.", "INVALID_ARGUMENT")

    return [
        Route("/v24/customers:listAccessibleCustomers", accessible, methods=["GET"]),
        Route("/v24/customers/{customer_id}/googleAds:searchStream", search_stream, methods=["POST"]),
    ]
