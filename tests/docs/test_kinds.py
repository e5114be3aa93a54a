"""docs/kinds.md's table cannot go stale: it lists exactly the kinds Patchbay knows, and its resource
lists, proxy bases and health checks are the provider registry's."""

from __future__ import annotations

import re
from pathlib import Path

from patchbay.config import kind_env_name
from patchbay.integration.kind_names import known_kinds
from patchbay.providers import registry
from patchbay.providers.bearer_proxy import BearerProxy
from patchbay.sandbox.server import sandbox_env

ROOT = Path(__file__).resolve().parents[2]
KINDS_MD = (ROOT / "docs" / "kinds.md").read_text()
HEADER = "| Kind | How | What Patchbay validates at creation | Resource lists | Proxy base | Health check |"
NONE = "—"


def table() -> dict[str, list[str]]:
    """The kind table's rows, by kind: its cells, stripped."""
    lines = KINDS_MD.split(HEADER + "\n", 1)[1].splitlines()[1:]  # below the |---| line
    rows: dict[str, list[str]] = {}
    for line in lines:
        if not line.startswith("| `"):
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        assert len(cells) == 6, line
        kind = cells[0].strip("`")
        assert kind not in rows, f"{kind} is listed twice"
        rows[kind] = cells
    return rows


def test_the_table_lists_exactly_the_known_kinds() -> None:
    kinds = list(table())
    assert kinds == sorted(kinds)
    assert set(kinds) == set(known_kinds())


def test_resource_lists_are_the_registrys() -> None:
    declared: dict[str, set[str]] = {}
    for route in registry.resource_routes():
        for kind in registry.route_owner(route).kinds:
            declared.setdefault(kind, set()).add(route.path)
    for kind, cells in table().items():
        listed = {name.split("?", 1)[0] for name in re.findall(r"`([^`]+)`", cells[3])}
        assert listed == declared.get(kind, set()), kind


def test_proxy_bases_are_the_registrys() -> None:
    for kind, cells in table().items():
        proxy = registry.proxy_auth(kind)
        assert cells[4].startswith(NONE) == (proxy is None), f"{kind}: {cells[4]}"
        if isinstance(proxy, BearerProxy):
            # The cell opens with the catalogue's proxy base, exactly.
            assert cells[4].split("`")[1] == proxy.default_api_url, f"{kind}: {cells[4]}"
    # Every OAuth catalogue kind is proxied with a bearer token.
    for kind in registry.oauth_providers():
        assert registry.proxy_auth(kind) is not None, kind


def test_a_separate_proxy_base_is_named_and_has_a_sandbox_base() -> None:
    """A kind whose data API is not its OAuth host says so in the table and the sandbox moves it."""
    env = sandbox_env("http://sandbox.test")
    separate = []
    for kind, entry in registry.oauth_providers().items():
        proxy = registry.proxy_auth(kind)
        if not isinstance(proxy, BearerProxy) or not proxy.separate:
            continue
        separate.append(kind)
        assert entry.proxy_base and entry.proxy_base != entry.api_url, kind
        assert f"`{entry.api_url}`" not in table()[kind][4], kind  # not the sign-in host
        assert env.get(kind_env_name(kind, "PROXY_URL"), "").startswith("http://sandbox.test/"), kind
    assert {"google-ads", "jira", "linkedin-ads", "salesforce", "pardot", "snapchat"} <= set(separate)


def test_health_checks_are_the_registrys() -> None:
    rows = table()
    for kind, cells in rows.items():
        check = registry.health_check(kind)
        assert (cells[5] != NONE) == (check is not None), f"{kind}: {cells[5]}"
    assert sum(cells[5] != NONE for cells in rows.values()) > 10
