"""Email senders: an address on a domain the organization owns, set up at SES (or maildev)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from patchbay.email_sender.schemas import EmailConfig
from patchbay.email_sender.service import build_sender
from patchbay.integration.kinds import BuiltIntegration, kind_builder

if TYPE_CHECKING:
    from patchbay.tenancy.context import ProjectContext


@kind_builder("email", config=EmailConfig)
async def build_email(ctx: ProjectContext, config: dict[str, Any]) -> BuiltIntegration:
    integration_id, stored = await build_sender(ctx, config)
    return BuiltIntegration(integration_id=integration_id, config=stored)
