"""/api/docs/ works offline (issue 17 item 13): the page and every asset it loads come from
Patchbay itself, never from a CDN."""

from __future__ import annotations

import re
from importlib.resources import files

import httpx


async def test_docs_page_loads_only_local_assets(client: httpx.AsyncClient) -> None:
    for path in ("/api/docs/", "/api/docs"):
        page = await client.get(path)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(urls) >= 3
    assert all(url.startswith("/api/docs/assets/") for url in urls), urls
    assert "http://" not in html and "https://" not in html and "//" not in html.replace("<!doctype", "")
    expected = {
        ".css": "text/css",
        ".js": "javascript",
        ".png": "image/png",
    }
    for url in urls:
        asset = await client.get(url)
        assert asset.status_code == 200, url
        kind = next(v for k, v in expected.items() if url.endswith(k))
        assert kind in asset.headers["content-type"] and len(asset.content) > 0
    bundle = await client.get("/api/docs/assets/swagger-ui-bundle.js")
    assert b"SwaggerUIBundle" in bundle.content
    starter = (await client.get("/api/docs/assets/patchbay-docs.js")).text
    assert '"/api/schema/"' in starter
    assert (await client.get("/api/schema/")).status_code == 200


async def test_only_known_assets_are_served(client: httpx.AsyncClient) -> None:
    for name in ("index.html", "..%2F..%2Fconfig.py", "swagger-ui.js.map", "docs.html"):
        response = await client.get(f"/api/docs/assets/{name}")
        assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_no_cdn_url_in_the_package() -> None:
    static = files("patchbay.operations") / "static"
    for name in ("docs.html", "patchbay-docs.js"):
        text = (static / name).read_text()
        assert "cdn" not in text.lower() and "http" not in text
