"""Azure Blob Storage on loopback: Get Account Information (`GET /{account}/?restype=account&comp=properties`)
with Shared Key authentication, verified from the specification's string-to-sign. Reach it with a
connection string whose BlobEndpoint is `http://<host>:<port>/azure-blob/<account>`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from urllib.parse import parse_qsl, unquote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from patchbay.simkit.state import Fault, SandboxState

NAME = "azure-blob"
KIND_URLS: dict[str, dict[str, str]] = {}  # the account's endpoint comes in the user's connection string
SIGNED_HEADERS = (
    "content-encoding", "content-language", "content-length", "content-md5", "content-type", "date",
    "if-modified-since", "if-match", "if-none-match", "if-unmodified-since", "range",
)  # fmt: skip


def error(status: int, code: str, message: str) -> Response:
    body = (
        f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code><Message>{message}\n'
        f"RequestId:{secrets.token_hex(8)}</Message></Error>"
    )
    return Response(body, status_code=status, media_type="application/xml", headers={"x-ms-error-code": code})


AUTH_FAILED = (
    "Server failed to authenticate the request. Make sure the value of Authorization header is formed "
    "correctly including the signature."
)


def render_fault(fault: Fault, request: Request) -> Response | None:
    if fault.mode in {"401", "403", "revoked"}:
        return error(403, "AuthenticationFailed", AUTH_FAILED)
    if fault.mode == "429":
        return error(503, "ServerBusy", "The server is busy.")
    if fault.mode.isdigit() and int(fault.mode) >= 500:
        return error(int(fault.mode), "InternalError", "The server encountered an internal error.")
    return None


def add_account(state: SandboxState, name: str | None = None, key: str | None = None) -> tuple[str, str]:
    """A storage account: its name and its (base64) account key."""
    name = name or "sandbox" + secrets.token_hex(4)
    key = key or base64.b64encode(secrets.token_bytes(64)).decode()
    state.provider_data(NAME).setdefault("accounts", {})[name] = key
    return name, key


def _expected(request: Request, account: str, key: str) -> str:
    headers = {k.lower(): v for k, v in request.headers.items()}
    if headers.get("content-length") == "0":
        headers.pop("content-length")
    lines = [request.method] + [headers.get(name, "") for name in SIGNED_HEADERS]
    canonical_headers = "".join(f"{k}:{headers[k]}\n" for k in sorted(k for k in headers if k.startswith("x-ms-")))
    resource = f"/{account}{request.url.path}"
    for k, v in sorted(parse_qsl(request.url.query, keep_blank_values=True)):
        resource += f"\n{k.lower()}:{unquote(v)}"
    to_sign = "\n".join(lines) + "\n" + canonical_headers + resource
    digest = hmac.new(base64.b64decode(key), to_sign.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def routes(state: SandboxState) -> list[BaseRoute]:
    async def account_info(request: Request) -> Response:
        account = request.path_params["account"]
        key = state.provider_data(NAME).get("accounts", {}).get(account)
        if key is None:
            return error(404, "ResourceNotFound", "The specified resource does not exist.")
        header = request.headers.get("authorization", "")
        if not header.startswith(f"SharedKey {account}:") or "x-ms-date" not in request.headers:
            return error(403, "NoAuthenticationInformation", "Server failed to authenticate the request.")
        if not hmac.compare_digest(header.split(":", 1)[1], _expected(request, account, key)):
            return error(403, "AuthenticationFailed", AUTH_FAILED)
        query = dict(parse_qsl(request.url.query))
        if query.get("restype") != "account" or query.get("comp") != "properties":
            return error(400, "InvalidQueryParameterValue", "Value for one of the query parameters is not valid.")
        return Response(
            status_code=200,
            headers={"x-ms-sku-name": "Standard_LRS", "x-ms-account-kind": "StorageV2", "x-ms-version": "2021-08-06"},
        )

    return [Route("/{account}/", account_info, methods=["GET"])]


DEMO_ACCOUNT = "patchbaysandbox"
DEMO_KEY = base64.b64encode(b"patchbay-sandbox-azure-account-key").decode()


def seed_demo(state: SandboxState) -> None:
    """An account `patchbay sandbox` users reach with AccountName=patchbaysandbox and DEMO_KEY."""
    add_account(state, DEMO_ACCOUNT, DEMO_KEY)
