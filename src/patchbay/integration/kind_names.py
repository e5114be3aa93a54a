"""Every integration kind PostHog knows (its IntegrationKind values), plus the kinds provider packages
add. Unknown kinds are refused with invalid_choice; known kinds this build cannot create answer
"Kind not supported"."""

from patchbay.providers import registry

ALL_KINDS: tuple[str, ...] = (
    "anthropic", "apns", "aws-redshift", "aws-s3", "azure-blob", "bing-ads", "clickup",
    "customerio-app", "customerio-track", "customerio-webhook", "databricks", "ebay", "email",
    "firebase", "github", "gitlab", "google-ads", "google-analytics", "google-calendar",
    "google-cloud-service-account", "google-cloud-storage", "google-pubsub",
    "google-search-console", "google-sheets", "hubspot", "instagram", "intercom", "jira",
    "linear", "linkedin-ads", "meta-ads", "pardot", "pinterest-ads", "postgresql", "posthog",
    "reddit-ads", "resend", "s3-compatible", "salesforce", "slack", "slack-posthog-code",
    "snapchat", "snowflake", "stripe", "tiktok-ads", "twilio", "vercel", "youtube-analytics",
)  # fmt: skip

DEPRECATED_KINDS = frozenset({"slack-posthog-code"})


def known_kinds() -> tuple[str, ...]:
    """PostHog's kinds, then those only a provider package knows (its own OAuth or credential kind)."""
    extra = (set(registry.kinds()) | set(registry.oauth_providers())) - set(ALL_KINDS)
    return ALL_KINDS + tuple(sorted(extra))
