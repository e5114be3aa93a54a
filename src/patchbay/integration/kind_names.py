"""Every integration kind PostHog knows (its IntegrationKind values). Unknown kinds are refused
with invalid_choice; known kinds this build cannot create answer "Kind not supported"."""

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
