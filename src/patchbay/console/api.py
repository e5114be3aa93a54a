"""The console's routes (`/console/…`), one module per area under areas/. Not in the API schema:
pages for people, answered as HTML, with a session cookie instead of an API key."""

from __future__ import annotations

from fastapi import APIRouter

from patchbay.console.areas import email, integrations, keys, organization, projects, signin, webhooks

router = APIRouter(include_in_schema=False)
for area in (signin, projects, integrations, keys, webhooks, email, organization):
    router.include_router(area.router)
