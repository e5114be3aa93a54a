"""Rendering the connect pages: Jinja2 templates and assets shipped in the package (no CDN, no
build step), served with headers that keep the page's token to itself."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.responses import HTMLResponse, Response

from patchbay.connect.service import PageProblem
from patchbay.kit.static_assets import CSS, JS, PackageAssets

_env = Environment(
    loader=PackageLoader("patchbay.connect", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)

# The page's URL holds its token: no Referer carries it to a provider, nothing caches it, no site
# frames it, and only the package's own script and style run on it.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}

# connect.js is imported by the product's pages, on their own origin.
_ASSETS = PackageAssets("patchbay.connect", (CSS, JS), {"Access-Control-Allow-Origin": "*"})


def asset(name: str) -> Response | None:
    return _ASSETS.response(name)


def render(template: str, status: int = 200, **values: Any) -> HTMLResponse:
    html = _env.get_template(template).render(**values)
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


def problem(found: PageProblem) -> HTMLResponse:
    return render(
        "problem.html",
        found.status,
        title=found.title,
        message=found.message,
        retry_url=found.retry_url,
    )
