"""The browser side of OAuth: redirect URI, PKCE, client credentials and the authorize URL."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import urlencode

from patchbay.config import Settings, kind_env_name
from patchbay.kit.errors import ValidationError
from patchbay.providers import registry
from patchbay.providers.catalog import OAuthProvider

TOKEN_TIMEOUT = 10.0


def http_timeout(settings: Settings) -> float:
    return float(getattr(settings, "http_timeout", TOKEN_TIMEOUT) or TOKEN_TIMEOUT)


def redirect_uri(settings: Settings, kind: str) -> str:
    """`{PATCHBAY_SITE_URL}/integrations/{kind}/callback`, with the scheme the operator configured
    (PostHog forces https; a loopback http:// site must keep working here). A provider may name it
    otherwise (eBay's RuName: `OAuthQuirks.redirect_uri`)."""
    return registry.oauth_quirks(kind).redirect_uri(settings, f"{settings.site_origin}/integrations/{kind}/callback")


def new_pkce_verifier() -> str:
    return secrets.token_urlsafe(64)


def pkce_challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def client_credentials(settings: Settings, kind: str) -> tuple[str, str]:
    client_id = settings.kind_setting(kind, "CLIENT_ID")
    client_secret = settings.kind_setting(kind, "CLIENT_SECRET")
    if not client_id or not client_secret:
        # PostHog's words first (clients may match on them), then what the operator has to set.
        raise ValidationError(
            f"Kind not configured. Set {kind_env_name(kind, 'CLIENT_ID')} and "
            f"{kind_env_name(kind, 'CLIENT_SECRET')} on the Patchbay server."
        )
    return client_id, client_secret


def state_string(next_url: str, token: str, project_id: int) -> str:
    """PostHog's `state`: itself a query string (next, token, team_id)."""
    return urlencode({"next": next_url, "token": token, "team_id": str(project_id)})


def authorize_url(settings: Settings, provider: OAuthProvider, state: str, code_verifier: str | None) -> str:
    client_id, _ = client_credentials(settings, provider.kind)
    base = provider.resolve_authorize_url(settings)
    uri = redirect_uri(settings, provider.kind)
    params = registry.oauth_quirks(provider.kind).authorize_params(provider, client_id, uri, state)
    if code_verifier:
        params["code_challenge"] = pkce_challenge(code_verifier)
        params["code_challenge_method"] = "S256"
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}{urlencode(params)}"


