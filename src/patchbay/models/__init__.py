"""Every table, importable from one place (Alembic reads Base.metadata from here)."""

from patchbay.models.activity import IntegrationActivity
from patchbay.models.base import Base
from patchbay.models.connect_session import ConnectSession
from patchbay.models.console_session import ConsoleSession
from patchbay.models.integration import TOKEN_REFRESH_FAILED, Integration
from patchbay.models.link_session import LinkSession
from patchbay.models.oauth_state import OAuthState
from patchbay.models.organization import MembershipLevel, Organization, OrganizationMembership
from patchbay.models.organization_integration import OrganizationIntegration
from patchbay.models.personal_api_key import PersonalAPIKey
from patchbay.models.project import Project
from patchbay.models.proxy_record import ProxyRecord
from patchbay.models.user import User
from patchbay.models.webhook import WebhookDelivery, WebhookEndpoint

__all__ = [
    "TOKEN_REFRESH_FAILED",
    "Base",
    "ConnectSession",
    "ConsoleSession",
    "Integration",
    "IntegrationActivity",
    "LinkSession",
    "MembershipLevel",
    "OAuthState",
    "Organization",
    "OrganizationIntegration",
    "OrganizationMembership",
    "PersonalAPIKey",
    "Project",
    "ProxyRecord",
    "User",
    "WebhookDelivery",
    "WebhookEndpoint",
]
