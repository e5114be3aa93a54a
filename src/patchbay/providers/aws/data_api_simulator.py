"""The Redshift Data API on loopback (JSON 1.1 protocol, `X-Amz-Target: RedshiftData.<Action>`):
ListStatements, SigV4-checked against the access keys `simkit.aws` holds, temporary ones included.
aws-redshift's role variant calls it with the role's credentials. Keys or roles listed with
`deny(state, …)` get AccessDeniedException, as a role without redshift-data permissions does."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from patchbay.simkit.aws import SignatureProblem, verify
from patchbay.simkit.state import Fault, SandboxState

NAME = "redshift-data"
KIND_URLS = {"aws-redshift": {"DATA_API_URL": "/"}}
JSON_11 = "application/x-amz-json-1.1"
MESSAGES = {
    "UnrecognizedClientException": "The security token included in the request is invalid.",
    "InvalidSignatureException": "The request signature we calculated does not match the signature you provided.",
    "MissingAuthenticationTokenException": "Missing Authentication Token",
    "ThrottlingException": "Rate exceeded",
    "InternalServerException": "Internal error.",
}


def error(status: int, code: str, message: str | None = None) -> Response:
    return JSONResponse({"__type": code, "message": message or MESSAGES.get(code, code)}, status_code=status,
                        media_type=JSON_11)  # fmt: skip


def render_fault(fault: Fault, request: Request) -> Response | None:
    if fault.mode == "429":
        return error(400, "ThrottlingException")
    if fault.mode.isdigit() and int(fault.mode) >= 500:
        return error(int(fault.mode), "InternalServerException")
    return None


def deny(state: SandboxState, access_key_id_or_role_arn: str) -> None:
    state.provider_data(NAME).setdefault("deny", set()).add(access_key_id_or_role_arn)


# Signature problems in this protocol's words.
_SIGNATURE_CODES = {
    "InvalidClientTokenId": "UnrecognizedClientException",
    "InvalidAccessKeyId": "UnrecognizedClientException",
    "InvalidToken": "UnrecognizedClientException",
    "SignatureDoesNotMatch": "InvalidSignatureException",
}


def routes(state: SandboxState) -> list[BaseRoute]:
    async def call(request: Request) -> Response:
        try:
            key = verify(state, request, await request.body(), "redshift-data")
        except SignatureProblem as problem:
            return error(400 if problem.code in _SIGNATURE_CODES else 403,
                         _SIGNATURE_CODES.get(problem.code, "MissingAuthenticationTokenException"))  # fmt: skip
        action = request.headers.get("x-amz-target", "").removeprefix("RedshiftData.")
        if action != "ListStatements":
            return error(400, "UnknownOperationException", f"Unknown operation {action}")
        denied = state.provider_data(NAME).get("deny", set())
        if key.access_key_id in denied or key.role_arn in denied:
            return error(
                400,
                "AccessDeniedException",
                f"User: {key.arn} is not authorized to perform: redshift-data:ListStatements",
            )
        return JSONResponse({"Statements": []}, media_type=JSON_11)

    return [Route("/", call, methods=["POST"])]
