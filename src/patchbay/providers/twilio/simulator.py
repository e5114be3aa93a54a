"""Twilio REST API 2010-04-01: account lookup and incoming phone numbers, HTTP Basic sid:token."""

from __future__ import annotations

import base64
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from patchbay.simkit.state import Fault, SandboxState

NAME = "twilio"
KIND_URLS = {"twilio": {"API_URL": ""}}
PAGE_SIZE_DEFAULT = 50


def _error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status_code=status,
    )


def render_fault(fault: Fault, request: Request) -> Response | None:
    if fault.mode in {"401", "revoked"}:
        return _error(401, 20003, "Authenticate")
    if fault.mode == "429":
        return JSONResponse(
            {"code": 20429, "message": "Too Many Requests", "status": 429},
            status_code=429,
            headers={"Retry-After": str(fault.retry_after)},
        )
    return None


def add_account(
    state: SandboxState, *, auth_token: str, friendly_name: str = "Sandbox Account", sid: str | None = None
) -> str:
    sid = sid or "AC" + secrets.token_hex(16)
    accounts = state.provider_data(NAME).setdefault("accounts", {})
    accounts[sid] = {"auth_token": auth_token, "friendly_name": friendly_name, "numbers": []}
    return sid


def add_number(state: SandboxState, sid: str, phone_number: str, friendly_name: str) -> dict[str, Any]:
    number = {
        "sid": "PN" + secrets.token_hex(16),
        "account_sid": sid,
        "friendly_name": friendly_name,
        "phone_number": phone_number,
        "status": "in-use",
        "capabilities": {"voice": True, "sms": True, "mms": True, "fax": False},
    }
    state.provider_data(NAME)["accounts"][sid]["numbers"].append(number)
    return number


def _authenticated(state: SandboxState, request: Request, sid: str) -> dict[str, Any] | None:
    header = request.headers.get("authorization", "")
    if not header.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    account = state.provider_data(NAME).get("accounts", {}).get(user)
    if account is None or account["auth_token"] != password or user != sid:
        return None
    return account


def routes(state: SandboxState) -> list[BaseRoute]:
    async def account(request: Request) -> Response:
        sid = request.path_params["sid"]
        acct = _authenticated(state, request, sid)
        if acct is None:
            return _error(401, 20003, "Authenticate")
        return JSONResponse(
            {
                "sid": sid,
                "friendly_name": acct["friendly_name"],
                "status": "active",
                "type": "Full",
                "owner_account_sid": sid,
                "auth_token": "redacted",
                "uri": f"/2010-04-01/Accounts/{sid}.json",
            }
        )

    async def numbers(request: Request) -> Response:
        sid = request.path_params["sid"]
        acct = _authenticated(state, request, sid)
        if acct is None:
            return _error(401, 20003, "Authenticate")
        size = min(int(request.query_params.get("PageSize", PAGE_SIZE_DEFAULT)), 1000)
        page = int(request.query_params.get("Page", 0))
        items = acct["numbers"][page * size : (page + 1) * size]
        base = f"/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json"
        has_next = (page + 1) * size < len(acct["numbers"])
        return JSONResponse(
            {
                "incoming_phone_numbers": items,
                "page": page,
                "page_size": size,
                "first_page_uri": f"{base}?PageSize={size}&Page=0",
                "next_page_uri": f"{base}?PageSize={size}&Page={page + 1}" if has_next else None,
                "previous_page_uri": None,
                "uri": f"{base}?PageSize={size}&Page={page}",
            }
        )

    return [
        Route("/2010-04-01/Accounts/{sid}.json", account),
        Route("/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json", numbers),
    ]


DEMO_ACCOUNT_SID = "AC" + "5a" * 16
DEMO_AUTH_TOKEN = "sandbox-twilio-auth-token"


def seed_demo(state: SandboxState) -> None:
    """A Twilio account whose SID and token `patchbay sandbox` prints, with two numbers."""
    add_account(state, auth_token=DEMO_AUTH_TOKEN, friendly_name="Sandbox Account", sid=DEMO_ACCOUNT_SID)
    add_number(state, DEMO_ACCOUNT_SID, "+14155550100", "(415) 555-0100")
    add_number(state, DEMO_ACCOUNT_SID, "+14155550101", "(415) 555-0101")
