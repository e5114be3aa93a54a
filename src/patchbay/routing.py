"""Every router of the service, in one list per mount point. A domain joins by adding a line."""

from __future__ import annotations

from fastapi import APIRouter

from patchbay.activity.api import router as activity_router
from patchbay.connect.api import page_router as connect_page_router
from patchbay.connect.api import router as connect_router
from patchbay.console.api import router as console_router
from patchbay.domain_connect.api import router as domain_connect_router
from patchbay.email_sender.api import router as email_sender_router
from patchbay.integration.api import router as integration_router
from patchbay.integration_check.api import router as integration_check_router
from patchbay.oauth.api import callback_router as oauth_callback_router
from patchbay.oauth.api import router as oauth_router
from patchbay.operations.api import router as operations_router
from patchbay.operations.docs import router as docs_router
from patchbay.org_integration.api import router as org_integration_router
from patchbay.provider_proxy.api import router as provider_proxy_router
from patchbay.provider_resources.api import router as provider_resources_router
from patchbay.proxy_record.api import router as proxy_record_router
from patchbay.vercel.api import router as vercel_router
from patchbay.webhook.api import router as webhook_router

# Mounted under /api/projects/{project_id} and, deprecated, /api/environments/{project_id}.
# FastAPI tries routers in this order on every request, so the busiest come first: the proxy
# matched last cost it ~45 route checks per call (its paths, /integrations/{id}/proxy/..., are no
# other route's).
PROJECT_ROUTERS: list[APIRouter] = [
    integration_router,
    provider_proxy_router,
    provider_resources_router,
    oauth_router,
    domain_connect_router,
    email_sender_router,
    connect_router,
    webhook_router,
    integration_check_router,
    activity_router,
]

# Mounted under /api/organizations/{organization_id}.
ORGANIZATION_ROUTERS: list[APIRouter] = [
    org_integration_router,
    proxy_record_router,
]

# Mounted as they are (browser callbacks, webhooks, operations).
ROOT_ROUTERS: list[APIRouter] = [
    operations_router,
    docs_router,
    oauth_callback_router,
    vercel_router,
    connect_page_router,
    console_router,
]
