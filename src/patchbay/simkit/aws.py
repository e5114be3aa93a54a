"""AWS Signature Version 4 as a simulator checks it, written from the specification (independently of
botocore, which signs on Patchbay's side), and the access keys the AWS-style simulators know."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote

from starlette.requests import Request

from patchbay.simkit.state import SandboxState

KEYS = "aws-keys"  # SandboxState.provider_data bucket shared by the STS and S3 simulators
ROLES = "aws-roles"


@dataclass(frozen=True)
class AccessKey:
    access_key_id: str
    secret_access_key: str
    account: str
    arn: str
    # Temporary credentials (AssumeRole's answer) carry a session token and the role they act as.
    session_token: str | None = None
    role_arn: str | None = None


@dataclass(frozen=True)
class Role:
    """An IAM role a simulator lets `trusted` principals (user ARNs) assume, with `external_id` when
    its trust policy asks for one."""

    arn: str
    account: str
    trusted: frozenset[str]
    external_id: str | None = None


def add_access_key(
    state: SandboxState,
    *,
    secret: str | None = None,
    account: str = "123456789012",
    user: str = "sandbox",
    key_id: str | None = None,
) -> AccessKey:
    key = AccessKey(
        access_key_id=key_id or "AKIA" + secrets.token_hex(8).upper(),
        secret_access_key=secret or secrets.token_urlsafe(30),
        account=account,
        arn=f"arn:aws:iam::{account}:user/{user}",
    )
    state.provider_data(KEYS)[key.access_key_id] = key
    return key


def add_role(
    state: SandboxState,
    *,
    trusted: AccessKey,
    account: str = "210987654321",
    name: str = "patchbay-access",
    external_id: str | None = None,
) -> Role:
    """A role in `account` whose trust policy names the user behind `trusted`."""
    role = Role(f"arn:aws:iam::{account}:role/{name}", account, frozenset({trusted.arn}), external_id)
    state.provider_data(ROLES)[role.arn] = role
    return role


def issue_session(state: SandboxState, role: Role, session_name: str) -> AccessKey:
    """Temporary credentials acting as `role`, known to every AWS-style simulator."""
    key = AccessKey(
        access_key_id="ASIA" + secrets.token_hex(8).upper(),
        secret_access_key=secrets.token_urlsafe(30),
        account=role.account,
        arn=f"arn:aws:sts::{role.account}:assumed-role/{role.arn.rsplit('/', 1)[-1]}/{session_name}",
        session_token=secrets.token_urlsafe(48),
        role_arn=role.arn,
    )
    state.provider_data(KEYS)[key.access_key_id] = key
    return key


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def _canonical_query(query: str) -> str:
    pairs = sorted(parse_qsl(query, keep_blank_values=True))
    return "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in pairs)


class SignatureProblem(Exception):
    """`code` is the AWS error code the service answers (InvalidClientTokenId, SignatureDoesNotMatch)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def verify(state: SandboxState, request: Request, body: bytes, service: str) -> AccessKey:
    """The access key that signed this request, or SignatureProblem."""
    header = request.headers.get("authorization", "")
    if not header.startswith("AWS4-HMAC-SHA256 "):
        raise SignatureProblem("MissingAuthenticationToken")
    fields = dict(
        part.strip().split("=", 1) for part in header[len("AWS4-HMAC-SHA256 ") :].split(",") if "=" in part
    )
    try:
        key_id, date, region, signed_service, terminator = fields["Credential"].split("/")
        signed_headers = fields["SignedHeaders"].split(";")
        signature = fields["Signature"]
    except (KeyError, ValueError):
        raise SignatureProblem("IncompleteSignature") from None
    key: AccessKey | None = state.provider_data(KEYS).get(key_id)
    if key is None:
        raise SignatureProblem("InvalidClientTokenId" if service == "sts" else "InvalidAccessKeyId")
    if key.session_token is not None and request.headers.get("x-amz-security-token") != key.session_token:
        raise SignatureProblem("InvalidClientTokenId" if service == "sts" else "InvalidToken")
    amz_date = request.headers.get("x-amz-date", "")
    if signed_service != service or terminator != "aws4_request" or not amz_date.startswith(date):
        raise SignatureProblem("SignatureDoesNotMatch")
    payload_hash = request.headers.get("x-amz-content-sha256") or hashlib.sha256(body).hexdigest()
    canonical_headers = "".join(
        f"{name}:{' '.join(request.headers.get(name, '').split())}\n" for name in signed_headers
    )
    canonical_request = "\n".join(
        [
            request.method,
            quote(request.url.path, safe="/-_.~"),
            _canonical_query(request.url.query),
            canonical_headers,
            ";".join(signed_headers),
            payload_hash,
        ]
    )
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    signing_key = _hmac(
        _hmac(_hmac(_hmac(("AWS4" + key.secret_access_key).encode(), date), region), service), "aws4_request"
    )
    expected = hmac.new(signing_key, to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise SignatureProblem("SignatureDoesNotMatch")
    return key
