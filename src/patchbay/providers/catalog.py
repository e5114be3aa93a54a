"""Every OAuth kind described as data: adding a provider is adding an entry, not an if-branch.

Each entry says where the browser is sent (authorize URL, scopes, extra parameters, PKCE), how
the code is exchanged (token URL and how the client authenticates there), how the account is
identified (token-info call and the fields it copies, id and display-name paths) and how tokens
are revoked. Behaviour that cannot be said as data lives in the provider's package
(`patchbay.providers.<name>/`, an `OAuthQuirks` registered for the kind: see `base.py`).

URLs are the providers' real ones. An operator (or the sandbox) moves a kind with
PATCHBAY_<KIND>_AUTHORIZE_URL (the full authorize URL) and PATCHBAY_<KIND>_API_URL (the API base):
server-side endpoints under the default API base keep their suffix (`{api}/oauth.v2.access`);
endpoints on another host of the same provider keep their path and are rebased on the API URL
(Google `https://oauth2.googleapis.com/token` -> `{api}/token`,
`https://openidconnect.googleapis.com/v1/userinfo` -> `{api}/v1/userinfo`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol
from urllib.parse import urlsplit

TokenAuth = Literal["form", "basic"]


class _KindSettings(Protocol):
    def kind_setting(self, kind: str, suffix: str) -> str | None: ...


@dataclass(frozen=True)
class OAuthProvider:
    kind: str
    id_path: str
    name_path: str
    authorize_url: str = ""
    api_url: str = ""
    token_url: str = ""
    scope: str = ""
    extra_authorize_params: Mapping[str, str] = field(default_factory=dict)
    pkce: bool = False
    # form: client_id/client_secret in the form body; basic: HTTP Basic client_id:client_secret.
    # A provider package can bring its own style (OAuthQuirks.token_auth).
    token_auth: TokenAuth = "form"
    token_headers: Mapping[str, str] = field(default_factory=dict)
    # Extra form fields sent with a refresh (Microsoft wants the scope again).
    refresh_params: Mapping[str, str] = field(default_factory=dict)
    token_info_url: str | None = None
    token_info_graphql: str | None = None
    token_info_fields: tuple[str, ...] = ()
    revoke_url: str | None = None
    # Assumed lifetime when the provider does not say (Salesforce, Pardot, Stripe).
    default_expires_in: int | None = None
    # Config paths holding credentials besides the tokens: moved into sensitive_config.
    secret_paths: tuple[str, ...] = ()
    # Retry an exchange that failed with this kind's endpoints (Salesforce sandbox orgs).
    fallback_kind: str | None = None
    # Where the proxy sends calls: the provider's data API, when it is not `api_url` (the OAuth
    # host). `{instance_url}` stands for the org's own host from the token answer (Salesforce),
    # taken only on one of `proxy_trusted_hosts` (host suffixes). Empty: `api_url`.
    proxy_base: str = ""
    proxy_trusted_hosts: tuple[str, ...] = ()

    @property
    def resolved_proxy_base(self) -> str:
        return self.proxy_base or self.api_url

    # --- URLs, honouring PATCHBAY_<KIND>_AUTHORIZE_URL / _API_URL ---------------------------------
    def resolve_authorize_url(self, settings: _KindSettings) -> str:
        return settings.kind_setting(self.kind, "AUTHORIZE_URL") or self.authorize_url

    def resolve(self, settings: _KindSettings, default_url: str) -> str:
        """A server-side endpoint of this provider, moved onto the configured API base if any."""
        return rebase(default_url, self.api_url, settings.kind_setting(self.kind, "API_URL"))

    def resolve_token_url(self, settings: _KindSettings) -> str:
        return self.resolve(settings, self.token_url)


def rebase(default_url: str, default_api: str, configured_api: str | None) -> str:
    if not configured_api:
        return default_url
    base = configured_api.rstrip("/")
    api = default_api.rstrip("/")
    if api and (default_url == api or default_url.startswith(api + "/")):
        return base + default_url[len(api) :]
    parts = urlsplit(default_url)
    return base + parts.path + (f"?{parts.query}" if parts.query else "")


SLACK_SCOPES = (
    "app_mentions:read,assistant:write,canvases:write,channels:history,channels:manage,channels:read,"
    "chat:write,chat:write.customize,commands,files:read,files:write,groups:history,groups:read,"
    "im:history,links:read,links:write,mpim:history,mpim:read,reactions:read,reactions:write,"
    "team:read,users:read,users:read.email"
)
HUBSPOT_SCOPES = (
    "tickets crm.objects.contacts.write sales-email-read crm.objects.companies.read crm.objects.deals.read "
    "crm.objects.contacts.read crm.objects.quotes.read crm.objects.companies.write"
)
HUBSPOT_OPTIONAL_SCOPES = (
    "analytics.behavioral_events.send behavioral_events.event_definitions.read_write crm.objects.leads.read "
    "crm.objects.owners.read crm.objects.line_items.read crm.objects.products.read crm.objects.invoices.read "
    "crm.objects.orders.read crm.objects.subscriptions.read crm.objects.commercepayments.read"
)
GOOGLE_EMAIL_SCOPE = "https://www.googleapis.com/auth/userinfo.email"
GOOGLE_SCOPES: dict[str, str] = {
    "google-ads": "https://www.googleapis.com/auth/adwords",
    "google-analytics": "https://www.googleapis.com/auth/analytics.readonly",
    "google-calendar": "https://www.googleapis.com/auth/calendar.readonly https://www.googleapis.com/auth/gmail.readonly",
    "google-search-console": "https://www.googleapis.com/auth/webmasters.readonly",
    "google-sheets": "https://www.googleapis.com/auth/spreadsheets",
    "youtube-analytics": "https://www.googleapis.com/auth/yt-analytics.readonly https://www.googleapis.com/auth/youtube.readonly",
}
META_VERSION = "v25.0"
SALESFORCE_LOGIN = "https://login.salesforce.com"
SALESFORCE_TEST = "https://test.salesforce.com"


# Hosts a Salesforce org's instance may have (its My Domain, Lightning, Experience Cloud ...).
SALESFORCE_HOSTS = (".salesforce.com", ".force.com", ".cloudforce.com", ".database.com")
# Each Google kind's data API (one host per kind: the proxy keeps to one base).
GOOGLE_PROXY_BASES: dict[str, str] = {
    "google-ads": "https://googleads.googleapis.com",
    "google-analytics": "https://analyticsdata.googleapis.com",
    "google-calendar": "https://www.googleapis.com",  # Calendar v3 and Gmail v1 both answer here
    "google-search-console": "https://searchconsole.googleapis.com",
    "google-sheets": "https://sheets.googleapis.com",
    "youtube-analytics": "https://youtubeanalytics.googleapis.com",
}


def _salesforce(
    kind: str, scope: str, api: str, fallback: str | None, proxy_base: str = "{instance_url}"
) -> OAuthProvider:
    return OAuthProvider(
        kind=kind,
        id_path="instance_url",
        name_path="instance_url",
        authorize_url=f"{api}/services/oauth2/authorize",
        api_url=api,
        token_url=f"{api}/services/oauth2/token",
        scope=scope,
        pkce=True,
        revoke_url=f"{api}/services/oauth2/revoke",
        default_expires_in=3600,
        fallback_kind=fallback,
        proxy_base=proxy_base,
        proxy_trusted_hosts=SALESFORCE_HOSTS if "{instance_url}" in proxy_base else (),
    )


def _google(kind: str) -> OAuthProvider:
    return OAuthProvider(
        kind=kind,
        id_path="sub",
        name_path="email",
        authorize_url="https://accounts.google.com/o/oauth2/v2/auth",
        api_url="https://oauth2.googleapis.com",
        token_url="https://oauth2.googleapis.com/token",
        scope=f"{GOOGLE_SCOPES[kind]} {GOOGLE_EMAIL_SCOPE}",
        extra_authorize_params={"access_type": "offline", "prompt": "consent"},
        pkce=True,
        token_info_url="https://openidconnect.googleapis.com/v1/userinfo",
        token_info_fields=("sub", "email"),
        proxy_base=GOOGLE_PROXY_BASES[kind],
    )


def _meta(kind: str, scope: str) -> OAuthProvider:
    graph = f"https://graph.facebook.com/{META_VERSION}"
    return OAuthProvider(
        kind=kind,
        id_path="id",
        name_path="name",
        authorize_url=f"https://www.facebook.com/{META_VERSION}/dialog/oauth",
        api_url="https://graph.facebook.com",
        token_url=f"{graph}/oauth/access_token",
        scope=scope,
        token_info_url=f"{graph}/me?fields=id,name",
        token_info_fields=("id", "name"),
    )


_PROVIDERS: list[OAuthProvider] = [
    OAuthProvider(
        kind="slack",
        id_path="team.id",
        name_path="team.name",
        authorize_url="https://slack.com/oauth/v2/authorize",
        api_url="https://slack.com/api",
        token_url="https://slack.com/api/oauth.v2.access",
        scope=SLACK_SCOPES,
        # A user token (when user scopes are requested) and the incoming webhook URL are credentials.
        secret_paths=("authed_user.access_token", "authed_user.refresh_token", "incoming_webhook.url"),
    ),
    OAuthProvider(
        kind="clickup",
        id_path="user.id",
        name_path="user.email",
        authorize_url="https://app.clickup.com/api",
        api_url="https://api.clickup.com/api",
        token_url="https://api.clickup.com/api/v2/oauth/token",
        scope="",
        token_info_url="https://api.clickup.com/api/v2/user",
        token_info_fields=("user.id", "user.email"),
    ),
    OAuthProvider(
        kind="linear",
        id_path="data.viewer.organization.id",
        name_path="data.viewer.organization.name",
        authorize_url="https://linear.app/oauth/authorize",
        api_url="https://api.linear.app",
        token_url="https://api.linear.app/oauth/token",
        scope="read issues:create",
        extra_authorize_params={"actor": "application"},
        pkce=True,
        token_info_url="https://api.linear.app/graphql",
        token_info_graphql="{ viewer { organization { id name urlKey } } }",
        token_info_fields=(
            "data.viewer.organization.id",
            "data.viewer.organization.name",
            "data.viewer.organization.urlKey",
        ),
    ),
    OAuthProvider(
        kind="hubspot",
        id_path="hub_id",
        name_path="hub_domain",
        authorize_url="https://app.hubspot.com/oauth/authorize",
        api_url="https://api.hubapi.com",
        token_url="https://api.hubapi.com/oauth/v1/token",
        scope=HUBSPOT_SCOPES,
        extra_authorize_params={"optional_scope": HUBSPOT_OPTIONAL_SCOPES},
        token_info_url="https://api.hubapi.com/oauth/v1/access-tokens/:access_token",
        token_info_fields=("hub_id", "hub_domain", "user", "user_id", "scopes"),
    ),
    _salesforce("salesforce", "full refresh_token", SALESFORCE_LOGIN, "salesforce-sandbox"),
    # Pardot's API (v5) is its own host; calls name the business unit (`Pardot-Business-Unit-Id`).
    _salesforce("pardot", "pardot_api refresh_token", SALESFORCE_LOGIN, None, "https://pi.pardot.com"),
    *[_google(kind) for kind in GOOGLE_SCOPES],
    OAuthProvider(
        kind="intercom",
        id_path="id",
        name_path="email",
        authorize_url="https://app.intercom.com/oauth",
        api_url="https://api.intercom.io",
        token_url="https://api.intercom.io/auth/eagle/token",
        scope="",
        token_info_url="https://api.intercom.io/me",
        token_info_fields=("id", "email"),
        secret_paths=("token",),  # Intercom repeats the access token as `token`
    ),
    OAuthProvider(
        kind="jira",
        id_path="cloud_id",
        name_path="site_name",
        authorize_url="https://auth.atlassian.com/authorize",
        api_url="https://auth.atlassian.com",
        token_url="https://auth.atlassian.com/oauth/token",
        scope="read:jira-work write:jira-work offline_access",
        extra_authorize_params={"audience": "api.atlassian.com", "prompt": "consent"},
        proxy_base="https://api.atlassian.com",  # /ex/jira/{cloud_id}/rest/api/3/...
    ),
    OAuthProvider(
        kind="snapchat",
        id_path="me.id",
        name_path="me.email",
        authorize_url="https://accounts.snapchat.com/accounts/oauth2/auth",
        api_url="https://accounts.snapchat.com",
        token_url="https://accounts.snapchat.com/login/oauth2/access_token",
        scope="snapchat-offline-conversions-api snapchat-marketing-api",
        token_info_url="https://adsapi.snapchat.com/v1/me",
        token_info_fields=("me.id", "me.email"),
        proxy_base="https://adsapi.snapchat.com",
    ),
    OAuthProvider(
        kind="linkedin-ads",
        id_path="sub",
        name_path="email",
        authorize_url="https://www.linkedin.com/oauth/v2/authorization",
        api_url="https://www.linkedin.com",
        token_url="https://www.linkedin.com/oauth/v2/accessToken",
        scope="r_ads rw_conversions r_ads_reporting openid profile email",
        proxy_base="https://api.linkedin.com",  # /rest/... with a LinkedIn-Version header
    ),
    OAuthProvider(
        kind="bing-ads",
        id_path="id",
        name_path="userPrincipalName",
        authorize_url="https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
        api_url="https://login.microsoftonline.com",
        token_url="https://login.microsoftonline.com/common/oauth2/v2.0/token",
        scope="https://ads.microsoft.com/msads.manage offline_access openid profile",
        pkce=True,
        refresh_params={"scope": "https://ads.microsoft.com/msads.manage offline_access openid profile"},
        # Microsoft Advertising's REST campaign API (v13); calls name the account in headers.
        proxy_base="https://campaign.api.bingads.microsoft.com",
    ),
    OAuthProvider(
        kind="reddit-ads",
        id_path="reddit_user_id",
        name_path="data.reddit_username",
        authorize_url="https://www.reddit.com/api/v1/authorize",
        api_url="https://www.reddit.com",
        token_url="https://www.reddit.com/api/v1/access_token",
        scope="read adsread adsconversions history adsedit",
        extra_authorize_params={"duration": "permanent"},
        token_auth="basic",
        token_headers={"User-Agent": "Patchbay/0.1 by patchbay"},
        proxy_base="https://ads-api.reddit.com",  # the Ads API, /api/v3/...
    ),
    OAuthProvider(
        kind="pinterest-ads",
        id_path="id",
        name_path="username",
        authorize_url="https://www.pinterest.com/oauth/",
        api_url="https://api.pinterest.com",
        token_url="https://api.pinterest.com/v5/oauth/token",
        scope="ads:read user_accounts:read",
        token_auth="basic",
        token_info_url="https://api.pinterest.com/v5/user_account",
        token_info_fields=("id", "username", "business_name"),
    ),
    _meta("meta-ads", "ads_read"),
    _meta(
        "instagram",
        "instagram_basic,instagram_manage_insights,pages_show_list,pages_read_engagement,business_management",
    ),
    OAuthProvider(
        kind="stripe",
        id_path="stripe_user_id",
        name_path="account_name",
        authorize_url="https://marketplace.stripe.com/oauth/v2/authorize",
        api_url="https://api.stripe.com",
        token_url="https://api.stripe.com/v1/oauth/token",
        scope="",
        default_expires_in=3600,
    ),
    OAuthProvider(
        kind="resend",
        id_path="resend_account_id",
        name_path="resend_account_name",
        authorize_url="https://api.resend.com/oauth/authorize",
        api_url="https://api.resend.com",
        token_url="https://api.resend.com/oauth/token",
        scope="full_access",
        pkce=True,
        revoke_url="https://api.resend.com/oauth/revoke",
    ),
    OAuthProvider(
        kind="tiktok-ads",
        id_path="data.advertiser_ids",
        name_path="user_display_name",
        authorize_url="https://business-api.tiktok.com/portal/auth",
        api_url="https://business-api.tiktok.com",
        token_url="https://business-api.tiktok.com/open_api/v1.3/oauth2/access_token/",
    ),
]

OAUTH_PROVIDERS: dict[str, OAuthProvider] = {p.kind: p for p in _PROVIDERS}

# Endpoint sets used only as a retry target, never connected directly.
FALLBACK_PROVIDERS: dict[str, OAuthProvider] = {
    "salesforce-sandbox": _salesforce("salesforce-sandbox", "full refresh_token", SALESFORCE_TEST, None),
}


def get_provider(kind: str) -> OAuthProvider | None:
    return OAUTH_PROVIDERS.get(kind)
