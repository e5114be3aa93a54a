"""An S3-compatible object store on loopback (MinIO, R2 and friends speak this): ListBuckets
(`GET /`, XML), SigV4-checked against the access keys `simkit.aws` holds (temporary ones from STS
AssumeRole too: aws-s3's role variant lists buckets here). Keys or roles listed in
`deny_list_buckets` get AccessDenied, as a bucket-scoped key does on a real store."""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from patchbay.simkit.aws import SignatureProblem, verify
from patchbay.simkit.state import Fault, SandboxState

NAME = "s3"
# s3-compatible's endpoint is the user's; aws-s3's role variant lists buckets at PATCHBAY_AWS_S3_S3_URL.
KIND_URLS = {"aws-s3": {"S3_URL": "/"}}
MESSAGES = {
    "InvalidAccessKeyId": "The AWS Access Key Id you provided does not exist in our records.",
    "SignatureDoesNotMatch": "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method.",
    "AccessDenied": "Access Denied",
    "MissingAuthenticationToken": "Access Denied",
    "IncompleteSignature": "Access Denied",
    "SlowDown": "Please reduce your request rate.",
    "InternalError": "We encountered an internal error. Please try again.",
}


def error(status: int, code: str) -> Response:
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
        f"<Message>{MESSAGES.get(code, code)}</Message><RequestId>{secrets.token_hex(8)}</RequestId></Error>"
    )
    return Response(body, status_code=status, media_type="application/xml")


def render_fault(fault: Fault, request: Request) -> Response | None:
    if fault.mode == "429":
        return error(503, "SlowDown")
    if fault.mode.isdigit() and int(fault.mode) >= 500:
        return error(int(fault.mode), "InternalError")
    return None


def deny_listing(state: SandboxState, access_key_id_or_role_arn: str) -> None:
    state.provider_data(NAME).setdefault("deny_list_buckets", set()).add(access_key_id_or_role_arn)


def routes(state: SandboxState) -> list[BaseRoute]:
    async def list_buckets(request: Request) -> Response:
        try:
            key = verify(state, request, await request.body(), "s3")
        except SignatureProblem as problem:
            return error(403, problem.code)
        denied = state.provider_data(NAME).get("deny_list_buckets", set())
        if key.access_key_id in denied or key.role_arn in denied:
            return error(403, "AccessDenied")
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            f"<Owner><ID>{key.account}</ID><DisplayName>sandbox</DisplayName></Owner>"
            "<Buckets><Bucket><Name>sandbox-bucket</Name><CreationDate>2026-01-01T00:00:00.000Z</CreationDate>"
            "</Bucket></Buckets></ListAllMyBucketsResult>"
        )
        return Response(body, media_type="application/xml")

    return [Route("/", list_buckets, methods=["GET"])]
