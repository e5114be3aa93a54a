"""What the connect page shows for each kind: its name, a lettermark, and for kinds created from
credentials the form fields (named as the API's `config` keys, so the API's builders check them).
Twilio, Databricks and the email sender have forms written here; every other credential kind's form
is read from its config model (providers.fields.kind_fields)."""

from __future__ import annotations

from dataclasses import dataclass

from patchbay.config import Settings
from patchbay.integration.kinds import builder_for
from patchbay.kit.errors import ValidationError
from patchbay.providers import registry
from patchbay.providers.fields import FieldSpec, kind_fields
from patchbay.providers.push_identity import ADMIN_FIELDS


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    input_type: str = "text"  # text, password, email, textarea, checkbox
    autocomplete: str = "off"
    hint: str = ""
    required: bool = True
    value_type: str = "text"  # what the builder gets: text, integer (a number), boolean (a checkbox)
    hidden_value: bool = False  # a secret shown in a textarea (a key file): never written back

    @property
    def secret(self) -> bool:
        return self.input_type == "password" or self.hidden_value


@dataclass(frozen=True)
class KindCard:
    kind: str
    name: str
    letters: str
    color: str  # background of the lettermark; white letters on it keep >= 4.5:1
    fields: tuple[FormField, ...] = ()
    # Where an error the builder names no field for is shown.
    fallback_field: str = ""
    action: str = "Connect"

    @property
    def is_oauth(self) -> bool:
        return self.kind in registry.oauth_providers()


_NAMES: dict[str, tuple[str, str, str]] = {
    "slack": ("Slack", "S", "#4a154b"),
    "clickup": ("ClickUp", "CU", "#5b2bd1"),
    "linear": ("Linear", "L", "#3e3f9c"),
    "hubspot": ("HubSpot", "H", "#b23b14"),
    "salesforce": ("Salesforce", "SF", "#0b5cab"),
    "pardot": ("Salesforce Pardot", "P", "#0b5cab"),
    "intercom": ("Intercom", "I", "#1f5fcc"),
    "jira": ("Jira", "J", "#0747a6"),
    "snapchat": ("Snapchat", "SC", "#5c4a00"),
    "linkedin-ads": ("LinkedIn Ads", "in", "#0a66c2"),
    "bing-ads": ("Microsoft Advertising", "MA", "#00668a"),
    "reddit-ads": ("Reddit Ads", "R", "#b83300"),
    "pinterest-ads": ("Pinterest Ads", "P", "#b60021"),
    "meta-ads": ("Meta Ads", "M", "#0059c9"),
    "instagram": ("Instagram", "IG", "#a0226b"),
    "stripe": ("Stripe", "S", "#5146d8"),
    "resend": ("Resend", "R", "#111111"),
    "tiktok-ads": ("TikTok Ads", "T", "#111111"),
    "google-ads": ("Google Ads", "G", "#1a62d1"),
    "google-analytics": ("Google Analytics", "GA", "#a64b00"),
    "google-calendar": ("Google Calendar", "GC", "#1a62d1"),
    "google-search-console": ("Google Search Console", "GS", "#3d6b00"),
    "google-sheets": ("Google Sheets", "GS", "#0f7a3c"),
    "youtube-analytics": ("YouTube Analytics", "YT", "#c00000"),
}

_WRITTEN_CARDS: dict[str, KindCard] = {
    "twilio": KindCard(
        "twilio",
        "Twilio",
        "Tw",
        "#c8102e",
        (
            FormField(
                "account_sid", "Account SID", hint="Starts with AC; on your Twilio console's home page."
            ),
            FormField("auth_token", "Auth token", "password", "off"),
        ),
        fallback_field="auth_token",
        action="Enter keys",
    ),
    "databricks": KindCard(
        "databricks",
        "Databricks",
        "Db",
        "#b32d1e",
        (
            FormField("server_hostname", "Server hostname", hint="For example dbc-1234.cloud.databricks.com"),
            FormField("client_id", "Client ID"),
            FormField("client_secret", "Client secret", "password"),
        ),
        fallback_field="server_hostname",
        action="Enter keys",
    ),
    "email": KindCard(
        "email",
        "Email sender",
        "@",
        "#2b5f75",
        (
            FormField("email", "Sender address", "email", "email", "An address on a domain you own."),
            FormField("name", "Sender name", autocomplete="organization"),
            FormField(
                "mail_from_subdomain",
                "MAIL FROM subdomain",
                hint="Optional. Defaults to feedback.",
                required=False,
            ),
        ),
        fallback_field="email",
        action="Set up",
    ),
}


def _form_field(spec: FieldSpec) -> FormField:
    if spec.value == "boolean":
        input_type = "checkbox"
    elif spec.multiline:
        input_type = "textarea"
    else:
        input_type = "password" if spec.secret else "text"
    return FormField(
        spec.name,
        spec.label,
        input_type,
        hint=spec.hint,
        required=spec.required,
        value_type=spec.value,
        hidden_value=spec.secret and spec.multiline,
    )


def _letters(name: str) -> str:
    words = [w for w in name.replace("-", " ").replace(".", " ").split() if w[:1].isalnum()]
    return "".join(w[0] for w in words[:2]).upper() or name[:1].upper()


def _read_cards() -> dict[str, KindCard]:
    """A card for every other credential kind, from its config model. Push identity settings are
    left out: changing them needs a project admin, which a connect link does not prove."""
    cards: dict[str, KindCard] = {}
    for provider in registry.providers():
        kinds = provider.credential_kind
        if kinds is None or kinds.config_model is None:
            continue
        fields = tuple(_form_field(s) for s in kind_fields(kinds.config_model) if s.name not in ADMIN_FIELDS)
        for kind in provider.kinds:
            if kind in _WRITTEN_CARDS or kind in registry.oauth_providers() or not fields:
                continue
            # Errors the builder names no field for go next to the first secret (what is usually wrong).
            fallback = next((f.name for f in fields if f.secret), fields[0].name)
            name = provider.display_name
            cards[kind] = KindCard(kind, name, _letters(name), "#3d4451", fields, fallback, "Enter keys")
    return cards


CREDENTIAL_CARDS: dict[str, KindCard] = {**_WRITTEN_CARDS, **_read_cards()}


def card(kind: str) -> KindCard:
    if kind in CREDENTIAL_CARDS:
        return CREDENTIAL_CARDS[kind]
    name, letters, color = _NAMES.get(kind, (kind.replace("-", " ").title(), kind[:1].upper(), "#3d4451"))
    return KindCard(kind, name, letters, color)


def configured_kinds(settings: Settings) -> list[str]:
    """Every kind the page can connect here: OAuth kinds with an app configured, and the kinds
    created from credentials. Ordered by name, as the page lists them."""
    kinds = [k for k in registry.oauth_providers() if is_configured(settings, k)] + list(CREDENTIAL_CARDS)
    return sorted(kinds, key=lambda k: card(k).name.lower())


def is_configured(settings: Settings, kind: str) -> bool:
    if kind in CREDENTIAL_CARDS:
        return True
    if kind not in registry.oauth_providers():
        return False
    return bool(settings.kind_setting(kind, "CLIENT_ID") and settings.kind_setting(kind, "CLIENT_SECRET"))


def check_offered(settings: Settings, kind: str) -> None:
    """Refuse a kind the page cannot connect (the API's own messages)."""
    builder_for(kind)  # "Kind not supported"
    if not is_configured(settings, kind):
        raise ValidationError("Kind not configured", attr="kinds")
