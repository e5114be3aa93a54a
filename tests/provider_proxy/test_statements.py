"""SQL statements of one proxied call: the row is read once, in one statement, and nothing else is
sent but the key's lookup and the activity row (counted on the runtime, SQLAlchemy and the driver
pool alike). Not timed: `python -m bench proxy` measures the cost."""

from __future__ import annotations

import httpx

from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from tests.provider_proxy.helpers import slack_integration
from tests.support.factory import Factory, Tenant


async def test_a_proxied_call_reads_its_integration_once(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime, sandbox: SandboxServer
) -> None:
    row = await slack_integration(factory, tenant, sandbox)
    url = f"{tenant.base}/integrations/{row.id}/proxy/auth.test"
    # The first use of a key records last_used_at (an hourly write): steady state comes after it.
    assert (await client.get(url, headers=tenant.headers)).status_code == 200
    with runtime.db.watch_statements() as statements:
        answer = await client.get(url, headers=tenant.headers)
    assert answer.status_code == 200 and answer.headers["patchbay-proxy"] == "upstream"
    reads = [s for s in statements if "FROM integrations" in s]
    assert len(reads) == 1, statements
    assert "sensitive_config" in reads[0]  # the one read carries the credentials
    writes = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    assert len(writes) == 1 and "integration_activity" in writes[0], statements
    # The key's lookup, the row, the activity row: no ORM load, no SET or second read per call.
    assert len(statements) <= 3, statements
