"""Every router of the service, in one list per mount point. A domain joins by adding a line."""

from __future__ import annotations

from fastapi import APIRouter

from patchbay.integration.api import router as integration_router
from patchbay.operations.api import router as operations_router

# Mounted under /api/projects/{project_id} and, deprecated, /api/environments/{project_id}.
PROJECT_ROUTERS: list[APIRouter] = [
    integration_router,
]

# Mounted under /api/organizations/{organization_id}.
ORGANIZATION_ROUTERS: list[APIRouter] = []

# Mounted as they are (browser callbacks, webhooks, operations).
ROOT_ROUTERS: list[APIRouter] = [
    operations_router,
]
