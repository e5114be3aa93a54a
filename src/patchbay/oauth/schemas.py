"""Query models of the OAuth routes (documented in the OpenAPI schema)."""

from __future__ import annotations

from pydantic import BaseModel


class AuthorizeQuery(BaseModel):
    kind: str | None = None
    next: str | None = None


class CallbackQuery(BaseModel):
    code: str | None = None
    state: str | None = None
    error: str | None = None
