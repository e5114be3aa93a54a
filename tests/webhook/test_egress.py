"""Webhook egress through kit.http's GuardedClient: every delivery checks the URL's host again and
sends to the checked address (TLS still names the host); a host that now resolves internally is
refused before any connection."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from patchbay.config import Settings
from patchbay.kit.http import GuardedClient
from patchbay.webhook import egress
from tests.kit.test_http import CHECKED, NAME, REBOUND, certificate, listener_pair
from tests.support.dns_server import DNSTestServer


@pytest.fixture
def zone() -> Iterator[DNSTestServer]:
    with DNSTestServer() as server:
        server.add(NAME, "A", CHECKED)
        yield server


def guarded_settings(zone: DNSTestServer) -> Settings:
    # The checked loopback address stands in for a public one; the rebound one stays internal.
    return Settings(  # type: ignore[call-arg]
        _env_file=None, dns_nameservers=zone.address, user_host_allowed_networks=f"{CHECKED}/32"
    )


async def test_every_post_is_checked_and_pinned(zone: DNSTestServer, tmp_path: Path) -> None:
    files, client_tls = certificate(tmp_path)
    checked, rebound = listener_pair(files)
    settings = guarded_settings(zone)
    client = GuardedClient(settings, timeout=3.0, verify=client_tls)
    url = f"https://{NAME}:{checked.port}/hooks"
    try:
        await egress.check(settings, url)
        assert await egress.post(client, url, {"webhook-id": "evt_1"}, b"{}") == 200
        assert checked.server_names == [NAME] and checked.hosts == [f"{NAME}:{checked.port}"]
        zone.replace(NAME, "A", [REBOUND])  # the name now points somewhere internal
        with pytest.raises(egress.URLRefused, match="must resolve to public internet addresses"):
            await egress.post(client, url, {"webhook-id": "evt_2"}, b"{}")
        with pytest.raises(egress.URLRefused):
            await egress.check(settings, url)
        assert rebound.hosts == [] and len(checked.hosts) == 1
    finally:
        await client.aclose()
        checked.stop()
        rebound.stop()


async def test_the_delivery_client_follows_the_settings(zone: DNSTestServer) -> None:
    settings = guarded_settings(zone)
    client = egress.delivery_client(settings)
    open_client = egress.delivery_client(settings.model_copy(update={"webhook_allow_private": True}))
    try:
        assert client.http.timeout.read == settings.webhook_timeout and not client.allow_internal
        assert open_client.allow_internal
        with pytest.raises(egress.URLRefused, match="must use https"):
            await egress.post(client, f"http://{NAME}/hooks", {}, b"{}")
    finally:
        await client.aclose()
        await open_client.aclose()
