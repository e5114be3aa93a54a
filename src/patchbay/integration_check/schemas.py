"""A check answers the integration object (`integration.schemas.IntegrationOut`), health included;
what a check learnt before it is stored is an `Outcome`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    """The health a check leaves: status, a detail safe to show, the code its event carries."""

    status: str
    detail: str | None = None
    code: str | None = None
