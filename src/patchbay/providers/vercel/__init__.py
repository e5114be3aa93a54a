"""Vercel: an organization-level kind. Marketplace installs, account linking and webhooks arrive on
the `vercel` domain's routes, which use this package's client and token verifier; the organization
integration domain reaches Vercel only through the `OrgKind` below (the environment mapping)."""

from __future__ import annotations

import logging

from patchbay.config import Settings
from patchbay.kit.errors import ValidationError
from patchbay.kit.provider_errors import UpstreamError
from patchbay.providers import registry
from patchbay.providers.base import EnvironmentTokens, OrgInstallation, Provider
from patchbay.providers.vercel import simulator
from patchbay.providers.vercel.resources import push_resource

log = logging.getLogger(__name__)

KIND = "vercel"


class VercelOrgKind:
    async def push_environment_mapping(
        self,
        settings: Settings,
        installation: OrgInstallation,
        *,
        resource_id: str,
        name: str,
        tokens: EnvironmentTokens,
    ) -> None:
        access_token = (installation.secrets.get("credentials") or {}).get("access_token")
        if not access_token or not installation.integration_id:
            log.info("organization integration has no Vercel credentials: nothing pushed")
            return
        try:
            await push_resource(
                settings,
                access_token=access_token,
                installation_id=installation.integration_id,
                team_id=installation.config.get("vercel_team_id"),
                resource_id=resource_id,
                name=name,
                tokens=tokens,
            )
        except UpstreamError:  # Vercel refused the credentials or forgot the installation
            raise ValidationError(
                "Vercel no longer accepts this installation's credentials. "
                "Link the Vercel account again, then save the mapping once more.",
                code="vercel_integration_inactive",
            ) from None

    async def after_delete(self, settings: Settings, installation: OrgInstallation) -> None:
        """Nothing to tell Vercel: an uninstall starts there (its webhook removes our rows)."""


PROVIDER = registry.register(
    Provider(
        name="vercel", display_name="Vercel", kinds=(KIND,), org_kind=VercelOrgKind(), simulators=(simulator,)
    )
)
