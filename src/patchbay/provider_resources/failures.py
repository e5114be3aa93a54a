"""How a classified provider failure reaches the caller of a resource route: the provider's own
envelope when it has one (Slack), else the generic one of `kit.provider_errors`; and whether the
failure marks the integration. The model itself (Failure, UpstreamError) lives in kit."""

from __future__ import annotations

from patchbay.kit.errors import APIError
from patchbay.kit.provider_errors import Failure, UpstreamError
from patchbay.kit.provider_errors import to_api_error as generic_api_error
from patchbay.providers import registry


def marks_integration(kind: str, failure: Failure) -> bool:
    """Whether this failure sets `errors = TOKEN_REFRESH_FAILED` on the integration (the provider
    says: PostHog marks a ClickUp row whose token the provider refuses, Linear behaves the same)."""
    lister = registry.resource_lister(kind)
    return failure is Failure.AUTH and lister is not None and lister.marks_integration_on_auth


def to_api_error(error: UpstreamError, *, action: str = "read this resource") -> APIError:
    """The envelope for a classified failure. `action` completes a provider's own wording
    ("list channels", "list workspace members")."""
    lister = registry.resource_lister(error.provider)
    if lister is not None and lister.api_error is not None:
        own = lister.api_error(error, action)
        if own is not None:
            return own
    return generic_api_error(error, registry.display_name(error.provider))
