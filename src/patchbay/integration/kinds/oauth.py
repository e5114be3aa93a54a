"""Every kind of the OAuth catalogue is created from {"code", "state"} by the OAuth domain."""

from __future__ import annotations

from patchbay.integration.kinds import kind_builder
from patchbay.oauth.schemas import OAuthCodeConfig
from patchbay.oauth.service import builder_for_kind
from patchbay.providers.catalog import OAUTH_PROVIDERS

for _kind in OAUTH_PROVIDERS:
    kind_builder(_kind, config=OAuthCodeConfig)(builder_for_kind(_kind))
