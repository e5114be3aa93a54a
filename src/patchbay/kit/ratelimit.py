"""Fixed-window rate limits ("480/minute,4800/hour") counted in the cache (Redis across processes)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from patchbay.kit.cache import FallbackCache, MemoryCache
from patchbay.kit.errors import Throttled

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class Rate:
    count: int
    period: int
    name: str


def parse_rates(spec: str) -> list[Rate]:
    spec = spec.strip()
    if not spec or spec.lower() in {"off", "none", "0"}:
        return []
    rates = []
    for part in spec.split(","):
        count, _, unit = part.strip().partition("/")
        unit = unit.strip().lower().rstrip("s")
        if unit not in PERIODS or not count.strip().isdigit():
            raise ValueError(f"invalid rate limit {part.strip()!r}: expected like 480/minute")
        rates.append(Rate(int(count), PERIODS[unit], unit))
    return rates


class RateLimiter:
    def __init__(self, rates: list[Rate], cache: MemoryCache | FallbackCache, prefix: str = "throttle") -> None:
        self.rates = rates
        self.cache = cache
        self.prefix = prefix  # limiters sharing a cache count apart

    async def check(self, ident: str) -> None:
        """Raise Throttled when a window of `ident` is already full, without counting a request
        (failed sign-ins count only when they fail, but every attempt is checked first)."""
        now = time.time()
        for rate in self.rates:
            window = int(now // rate.period)
            used = await self.cache.get(f"{self.prefix}:{rate.name}:{ident}:{window}")
            if isinstance(used, int) and used >= rate.count:
                raise Throttled(int((window + 1) * rate.period - now) + 1)

    async def hit(self, ident: str) -> None:
        """Count one request for `ident` in every window; raise Throttled when one is full."""
        now = time.time()
        for rate in self.rates:
            window = int(now // rate.period)
            key = f"{self.prefix}:{rate.name}:{ident}:{window}"
            used = await self.cache.incr(key, rate.period + 1)
            if used > rate.count:
                wait = int((window + 1) * rate.period - now) + 1
                raise Throttled(wait)
