"""The one error type family. Every failure leaves the API as PostHog's envelope:
{"type", "code", "detail", "attr"}."""

from __future__ import annotations

from typing import Any


class APIError(Exception):
    status_code = 500
    error_type = "server_error"
    default_code = "error"
    default_detail = "A server error occurred."

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        attr: str | None = None,
        headers: dict[str, str] | None = None,
        status_code: int | None = None,
        error_type: str | None = None,
    ) -> None:
        self.detail = detail if detail is not None else self.default_detail
        self.code = code or self.default_code
        self.attr = attr
        self.headers = headers or {}
        if status_code is not None:
            self.status_code = status_code
        if error_type is not None:
            self.error_type = error_type
        super().__init__(self.detail)

    def body(self) -> dict[str, Any]:
        return {"type": self.error_type, "code": self.code, "detail": self.detail, "attr": self.attr}


class ValidationError(APIError):
    status_code = 400
    error_type = "validation_error"
    default_code = "invalid_input"
    default_detail = "Invalid input."


class InvalidRequest(APIError):
    status_code = 400
    error_type = "invalid_request"
    default_code = "invalid_request"
    default_detail = "Invalid request."


class NotFound(APIError):
    status_code = 404
    error_type = "invalid_request"
    default_code = "not_found"
    default_detail = "Not found."


class MethodNotAllowed(APIError):
    status_code = 405
    error_type = "invalid_request"
    default_code = "method_not_allowed"

    def __init__(self, method: str) -> None:
        super().__init__(f'Method "{method}" not allowed.')


class NotAuthenticated(APIError):
    status_code = 401
    error_type = "authentication_error"
    default_code = "not_authenticated"
    default_detail = "Authentication credentials were not provided."

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"}, **kwargs)


class AuthenticationFailed(NotAuthenticated):
    default_code = "authentication_failed"
    default_detail = "Incorrect authentication credentials."


class PermissionDenied(APIError):
    status_code = 403
    error_type = "authentication_error"
    default_code = "permission_denied"
    default_detail = "You do not have permission to perform this action."


class Throttled(APIError):
    status_code = 429
    error_type = "throttled_error"
    default_code = "throttled"

    def __init__(self, wait_seconds: int, detail: str | None = None, code: str | None = None) -> None:
        wait = max(1, int(wait_seconds))
        self.wait_seconds = wait
        unit = "second" if wait == 1 else "seconds"
        super().__init__(
            detail or f"Request was throttled. Expected available in {wait} {unit}.",
            code=code,
            headers={"Retry-After": str(wait)},
        )


class ProviderUnavailable(APIError):
    """The provider failed (5xx, malformed answer): not our fault, not the caller's."""

    status_code = 502
    error_type = "server_error"
    default_code = "provider_unavailable"
    default_detail = "The provider answered with an error. Please try again later."


class ProviderUnreachable(ProviderUnavailable):
    """The provider did not answer in time or could not be reached."""

    status_code = 503
    default_code = "provider_unreachable"
    default_detail = "The provider did not respond in time. Please try again later."


class DatabaseUnavailable(APIError):
    """PostgreSQL cannot be reached now (restarting, failing over): retry shortly."""

    status_code = 503
    error_type = "server_error"
    default_code = "database_unavailable"
    default_detail = "The database is unavailable. Please try again shortly."

    def __init__(self) -> None:
        super().__init__(headers={"Retry-After": "1"})


class ProviderRateLimited(Throttled):
    def __init__(self, provider: str, retry_after: int | None) -> None:
        wait = retry_after if retry_after and retry_after > 0 else 60
        super().__init__(
            wait,
            detail=f"{provider} is rate limiting requests. Try again in {wait} seconds.",
            code="provider_rate_limited",
        )
