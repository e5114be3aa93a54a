"""Rendering console pages: Jinja2 templates and assets shipped in the package (no CDN, no build
step, no script: every action is a plain form), with headers that keep the pages to themselves."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.responses import HTMLResponse, Response

from patchbay.kit.static_assets import CSS, PackageAssets

_env = Environment(
    loader=PackageLoader("patchbay.console", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, str) and value:
        return value.replace("T", " ")[:16] + " UTC"
    return "—"


_env.filters["when"] = _when

PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}
TITLES = {
    400: "That did not work",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    410: "Gone",
    429: "Too many requests",
}


_ASSETS = PackageAssets("patchbay.console", (CSS,))


def asset(name: str) -> Response | None:
    return _ASSETS.response(name)


def render(
    template: str, status: int = 200, headers: dict[str, str] | None = None, **values: Any
) -> HTMLResponse:
    html = _env.get_template(template).render(**values)
    return HTMLResponse(html, status_code=status, headers={**PAGE_HEADERS, **(headers or {})})


def render_problem(status: int, message: str, headers: dict[str, str] | None = None) -> HTMLResponse:
    status = status if status >= 400 else 400
    title = TITLES.get(status, "Something went wrong")
    return render("problem.html", status, headers, title=title, message=message)
