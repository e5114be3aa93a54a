"""AWS STS on loopback: GetCallerIdentity (Query protocol, XML answers), SigV4-checked against the
access keys `simkit.aws` holds. The `aws-s3` and `aws-redshift` kinds prove an access key with it."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from patchbay.simkit.aws import AccessKey, SignatureProblem, add_access_key, verify
from patchbay.simkit.state import Fault, SandboxState

NAME = "aws-sts"
KIND_URLS = {"aws-s3": {"STS_URL": "/"}, "aws-redshift": {"STS_URL": "/"}}
XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/"
MESSAGES = {
    "InvalidClientTokenId": "The security token included in the request is invalid.",
    "SignatureDoesNotMatch": "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
    "MissingAuthenticationToken": "Request is missing Authentication Token",
    "IncompleteSignature": "Request is missing a required signature component.",
    "Throttling": "Rate exceeded",
    "InvalidAction": "Could not find operation",
    "ServiceUnavailable": "Service is unable to handle request.",
}


def error(status: int, code: str) -> Response:
    body = (
        f'<ErrorResponse xmlns="{XMLNS}"><Error><Type>Sender</Type><Code>{code}</Code>'
        f"<Message>{MESSAGES.get(code, code)}</Message></Error>"
        f"<RequestId>{secrets.token_hex(8)}</RequestId></ErrorResponse>"
    )
    return Response(body, status_code=status, media_type="text/xml")


def render_fault(fault: Fault, request: Request) -> Response | None:
    if fault.mode in {"401", "403", "revoked"}:
        return error(403, "InvalidClientTokenId")
    if fault.mode == "429":
        return error(400, "Throttling")
    if fault.mode.isdigit() and int(fault.mode) >= 500:
        return error(int(fault.mode), "ServiceUnavailable")
    return None


def identity(key: AccessKey) -> Response:
    body = (
        f'<GetCallerIdentityResponse xmlns="{XMLNS}"><GetCallerIdentityResult>'
        f"<Arn>{key.arn}</Arn><UserId>{key.access_key_id}</UserId><Account>{key.account}</Account>"
        f"</GetCallerIdentityResult><ResponseMetadata><RequestId>{secrets.token_hex(8)}</RequestId>"
        "</ResponseMetadata></GetCallerIdentityResponse>"
    )
    return Response(body, media_type="text/xml")


def routes(state: SandboxState) -> list[BaseRoute]:
    async def query_api(request: Request) -> Response:
        body = await request.body()
        try:
            key = verify(state, request, body, "sts")
        except SignatureProblem as problem:
            return error(403, problem.code)
        action = parse_qs(body.decode()).get("Action", [""])[0]
        if action != "GetCallerIdentity":
            return error(400, "InvalidAction")
        return identity(key)

    return [Route("/", query_api, methods=["POST"])]


DEMO_ACCESS_KEY_ID = "AKIASANDBOXDEMO00001"
DEMO_SECRET = "sandbox-aws-secret-access-key"


def seed_demo(state: SandboxState) -> None:
    """An access key `patchbay sandbox` users can type into aws-s3, aws-redshift and s3-compatible."""
    add_access_key(state, key_id=DEMO_ACCESS_KEY_ID, secret=DEMO_SECRET, user="sandbox")
