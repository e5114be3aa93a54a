"""Caller lookups kept in process memory, for as long as PostgreSQL says nothing changed.

Every project request starts with the same lookup: key → user → project → membership. Under load it
was a second statement per request, as costly for PostgreSQL as a whole page of integrations. The
cache keeps each found row, keyed by the key's stored hash and the project asked for, and drops
everything whenever a change to keys, users, projects or memberships commits: triggers (migration
0002) send NOTIFY patchbay_auth_changes from whichever process writes, and every worker listens.

Correctness rests on three rules:
- it serves only while its LISTEN connection is up (`live`); lost, it is emptied and bypassed;
- a row read before a change can never be stored after it: each store names the generation its
  read started in, and every change starts a new generation;
- entries also expire after `ttl` seconds, a bound that holds even if a notification went missing.
Unknown keys are never cached: a 401 always comes from the database.
"""

from __future__ import annotations

import time

from patchbay.kit.db import Row
from patchbay.kit.live_cache import Generations

CHANNEL = "patchbay_auth_changes"

ProjectRef = int | None  # a project id, or None for the caller's current project (`@current`)


class CallerCache(Generations[dict[ProjectRef, tuple[float, Row]]]):
    def __init__(
        self,
        *,
        ttl: float = 30.0,  # pragma: no mutate (tuning, as the two bounds below)
        max_keys: int = 10_000,  # pragma: no mutate
        max_projects_per_key: int = 1_000,  # pragma: no mutate
    ) -> None:
        self._entries: dict[str, dict[ProjectRef, tuple[float, Row]]] = {}
        super().__init__(self._entries)
        self.ttl = ttl
        self.max_keys = max_keys
        self.max_projects_per_key = max_projects_per_key

    def get(self, secure_value: str, project: ProjectRef) -> Row | None:
        if not self.live:
            return None
        per_key = self._entries.get(secure_value)
        entry = per_key.get(project) if per_key else None
        if entry is None:
            return None
        expires, row = entry
        if time.monotonic() >= expires:  # pragma: no mutate (> differs at one instant only)
            del per_key[project]  # type: ignore[union-attr]
            return None
        return row

    def put(self, secure_value: str, project: ProjectRef, row: Row, generation: int) -> None:
        """Keep `row`, read by a lookup that started in `generation` (see `generation`)."""
        if not self.live or generation != self.generation:
            return
        per_key = self._entries.get(secure_value)
        if per_key is None:
            if len(self._entries) >= self.max_keys:
                self._entries.pop(next(iter(self._entries)))  # the oldest key
            per_key = self._entries[secure_value] = {}
        elif len(per_key) >= self.max_projects_per_key:
            per_key.pop(next(iter(per_key)))
        per_key[project] = (time.monotonic() + self.ttl, dict(row))

    def forget_key(self, secure_value: str) -> None:
        self._entries.pop(secure_value, None)

    def __len__(self) -> int:
        return sum(len(per_key) for per_key in self._entries.values())

