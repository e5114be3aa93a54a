"""Everything the simulators remember, and the faults tests ask them to inject."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

FAULT_MODES = {"401", "403", "429", "500", "503", "timeout", "malformed", "revoked"}
SANDBOX_CLIENT_ID = "sandbox-client-id"
SANDBOX_CLIENT_SECRET = "sandbox-client-secret"


@dataclass
class Fault:
    mode: str
    remaining: int
    path_contains: str = ""
    retry_after: int = 7


@dataclass
class IssuedToken:
    provider: str
    kind: str
    account: dict[str, Any]
    expires_at: float | None
    revoked: bool = False


@dataclass
class Call:
    provider: str
    method: str
    path: str
    at: float
    # What arrived, for tests of what Patchbay forwards (the proxy): every header, the raw query.
    headers: dict[str, str] = field(default_factory=dict)
    query: str = ""


@dataclass
class SandboxState:
    """Shared by every provider module. Thread-safe enough for one server thread plus test code."""

    timeout_seconds: float = 30.0
    token_lifetime: int = 3600
    # Seconds every provider call waits before its answer: the provider's own time (real APIs take
    # tens to hundreds of milliseconds), so a benchmark can measure what a proxy adds on top of it.
    answer_delay: float = 0.0
    # Set when the server stops: hung answers ("timeout" faults) end instead of being cancelled.
    closing: bool = False
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    tokens: dict[str, IssuedToken] = field(default_factory=dict)
    refresh_tokens: dict[str, IssuedToken] = field(default_factory=dict)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    data: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- faults -------------------------------------------------------------------------------
    def inject(
        self, provider: str, mode: str, count: int = 1, path_contains: str = "", retry_after: int = 7
    ) -> None:
        if mode not in FAULT_MODES:
            raise ValueError(f"unknown fault mode {mode!r}; one of {sorted(FAULT_MODES)}")
        with self.lock:
            self.faults.setdefault(provider, []).append(Fault(mode, count, path_contains, retry_after))

    def take_fault(self, provider: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults.get(provider, []):
                if fault.remaining > 0 and fault.path_contains in path:
                    fault.remaining -= 1
                    return fault
        return None

    def clear_faults(self, provider: str | None = None) -> None:
        with self.lock:
            if provider is None:
                self.faults.clear()
            else:
                self.faults.pop(provider, None)

    # --- calls ----------------------------------------------------------------------------------
    def record(
        self, provider: str, method: str, path: str, headers: dict[str, str] | None = None, query: str = ""
    ) -> None:
        with self.lock:
            self.calls.append(Call(provider, method, path, time.time(), dict(headers or {}), query))

    def count_calls(self, provider: str, path_contains: str = "", method: str | None = None) -> int:
        with self.lock:
            return sum(
                1
                for c in self.calls
                if c.provider == provider
                and path_contains in c.path
                and (method is None or c.method == method)
            )

    # --- tokens ---------------------------------------------------------------------------------
    def issue_code(self, provider: str, kind: str, payload: dict[str, Any]) -> str:
        code = "code-" + secrets.token_urlsafe(16)
        with self.lock:
            self.codes[code] = {"provider": provider, "kind": kind, **payload}
        return code

    def redeem_code(self, code: str) -> dict[str, Any] | None:
        """Codes are single-use everywhere."""
        with self.lock:
            return self.codes.pop(code, None)

    def issue_tokens(
        self, provider: str, kind: str, account: dict[str, Any], *, expires: bool = True, prefix: str = "tok"
    ) -> tuple[str, str]:
        access = f"{prefix}-access-" + secrets.token_urlsafe(18)
        refresh = f"{prefix}-refresh-" + secrets.token_urlsafe(18)
        expires_at = time.time() + self.token_lifetime if expires else None
        issued = IssuedToken(provider, kind, account, expires_at)
        with self.lock:
            self.tokens[access] = issued
            self.refresh_tokens[refresh] = IssuedToken(provider, kind, account, None)
        return access, refresh

    def rotate_refresh(self, refresh_token: str) -> IssuedToken | None:
        """Redeem a refresh token: it stops working (rotation)."""
        with self.lock:
            issued = self.refresh_tokens.pop(refresh_token, None)
        if issued is None or issued.revoked:
            return None
        return issued

    def token(self, access_token: str) -> IssuedToken | None:
        with self.lock:
            issued = self.tokens.get(access_token)
        if issued is None or issued.revoked:
            return None
        if issued.expires_at is not None and issued.expires_at < time.time():
            return None
        return issued

    def revoke(self, token: str) -> bool:
        with self.lock:
            for table in (self.tokens, self.refresh_tokens):
                if token in table:
                    table[token].revoked = True
                    return True
        return False

    def revoke_account(self, provider: str) -> None:
        with self.lock:
            for issued in [*self.tokens.values(), *self.refresh_tokens.values()]:
                if issued.provider == provider:
                    issued.revoked = True

    def provider_data(self, provider: str) -> dict[str, Any]:
        with self.lock:
            return self.data.setdefault(provider, {})

    def reset(self) -> None:
        with self.lock:
            # Knobs a test may turn go back to their defaults with the data (no leak to the next test).
            self.timeout_seconds = type(self).timeout_seconds
            self.token_lifetime = type(self).token_lifetime
            self.answer_delay = type(self).answer_delay
            self.faults.clear()
            self.tokens.clear()
            self.refresh_tokens.clear()
            self.codes.clear()
            self.calls.clear()
            self.data.clear()
