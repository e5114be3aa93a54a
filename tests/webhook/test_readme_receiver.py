"""The README's receiver, run as written (its secret and port filled in): it accepts what Patchbay
signs and refuses a forged signature."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

import httpx

from patchbay.runtime import Runtime
from patchbay.sandbox.server import free_port
from tests.support.factory import Tenant
from tests.webhook.helpers import create_endpoint, deliver, deliveries

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_receiver() -> str:
    text = README.read_text()
    section = text[text.index("## Webhooks") :]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "the README's webhooks section has a Python receiver"
    return match.group(1)


async def test_the_readme_receiver_verifies_patchbays_signatures(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    endpoint = await create_endpoint(client, tenant, url, ["ping"])
    code = readme_receiver().replace("whsec_…", endpoint["secret"]).replace("9000", str(port))
    script = tmp_path / "receiver.py"
    script.write_text(code)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(script), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(100):
                try:
                    forged = await http.post(
                        url,
                        content=b'{"type": "ping"}',
                        headers={
                            "webhook-id": "evt_x",
                            "webhook-timestamp": "1",
                            "webhook-signature": "v1,AAAA",
                        },
                    )
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
        assert forged.status_code == 400
        queued = await client.post(f"{tenant.base}/webhooks/{endpoint['id']}/test/", headers=tenant.headers)
        await deliver(runtime)
        (done,) = await deliveries(client, tenant, endpoint["id"])
        assert done["status"] == "succeeded" and done["last_status_code"] == 204
    finally:
        proc.terminate()
        out, _ = await asyncio.wait_for(proc.communicate(), 10)
    assert out.decode().split() == [queued.json()["event_id"], "ping"]
