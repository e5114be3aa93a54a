"""AWS STS on loopback: GetCallerIdentity and AssumeRole (Query protocol, XML answers), SigV4-checked
against the access keys `simkit.aws` holds. The `aws-s3` and `aws-redshift` kinds prove an access key
with the first; their role variants assume the user's role with the second (the caller must be named
in the role's trust policy, and give its external ID when it has one)."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from patchbay.simkit.aws import (
    ROLES,
    AccessKey,
    Role,
    SignatureProblem,
    add_access_key,
    add_role,
    issue_session,
    verify,
)
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


def error(status: int, code: str, message: str | None = None) -> Response:
    body = (
        f'<ErrorResponse xmlns="{XMLNS}"><Error><Type>Sender</Type><Code>{code}</Code>'
        f"<Message>{message or MESSAGES.get(code, code)}</Message></Error>"
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


def assume_role(state: SandboxState, caller: AccessKey, params: dict[str, str]) -> Response:
    arn, session_name = params.get("RoleArn", ""), params.get("RoleSessionName", "")
    if not session_name:
        return error(400, "ValidationError", "1 validation error detected: Value null at 'roleSessionName'")
    role: Role | None = state.provider_data(ROLES).get(arn)
    external_id = params.get("ExternalId")
    # AWS says the same thing for an unknown role, an untrusted caller and a wrong external ID.
    if role is None or caller.arn not in role.trusted or role.external_id != external_id:
        return error(
            403,
            "AccessDenied",
            f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on resource: {arn}",
        )
    key = issue_session(state, role, session_name)
    body = (
        f'<AssumeRoleResponse xmlns="{XMLNS}"><AssumeRoleResult><Credentials>'
        f"<AccessKeyId>{key.access_key_id}</AccessKeyId><SecretAccessKey>{key.secret_access_key}</SecretAccessKey>"
        f"<SessionToken>{key.session_token}</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration>"
        f"</Credentials><AssumedRoleUser><Arn>{key.arn}</Arn><AssumedRoleId>AROA{secrets.token_hex(8).upper()}"
        f":{session_name}</AssumedRoleId></AssumedRoleUser></AssumeRoleResult>"
        f"<ResponseMetadata><RequestId>{secrets.token_hex(8)}</RequestId></ResponseMetadata></AssumeRoleResponse>"
    )
    return Response(body, media_type="text/xml")


def routes(state: SandboxState) -> list[BaseRoute]:
    async def query_api(request: Request) -> Response:
        body = await request.body()
        try:
            key = verify(state, request, body, "sts")
        except SignatureProblem as problem:
            return error(403, problem.code)
        params = {name: values[0] for name, values in parse_qs(body.decode()).items()}
        action = params.get("Action", "")
        if action == "GetCallerIdentity":
            return identity(key)
        if action == "AssumeRole":
            return assume_role(state, key, params)
        return error(400, "InvalidAction")

    return [Route("/", query_api, methods=["POST"])]


DEMO_ACCESS_KEY_ID = "AKIASANDBOXDEMO00001"
DEMO_SECRET = "sandbox-aws-secret-access-key"
DEMO_ROLE_ARN = "arn:aws:iam::210987654321:role/sandbox-access"


def seed_demo(state: SandboxState) -> None:
    """An access key `patchbay sandbox` users can type into aws-s3, aws-redshift and s3-compatible, and
    a role it may assume (DEMO_ROLE_ARN) for the role variants when Patchbay runs with that key as its
    own (PATCHBAY_AWS_ROLE_ACCESS_KEY_ID / PATCHBAY_AWS_ROLE_SECRET_ACCESS_KEY)."""
    key = add_access_key(state, key_id=DEMO_ACCESS_KEY_ID, secret=DEMO_SECRET, user="sandbox")
    add_role(state, trusted=key, name="sandbox-access")
