"""/api/docs/: Swagger UI on /api/schema/, served entirely by Patchbay (no CDN), so the docs work
offline and behind firewalls. Swagger UI's files come from the swagger-ui-bundle-v2 package."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

from patchbay.kit.errors import NotFound

router = APIRouter(include_in_schema=False)

_STATIC = Path(str(files("patchbay.operations") / "static"))
_SWAGGER = Path(str(swagger_ui_path))
# Only these files are served: the names map to known paths, never to what a URL spells.
ASSETS: dict[str, Path] = {
    "swagger-ui.css": _SWAGGER / "swagger-ui.css",
    "swagger-ui-bundle.js": _SWAGGER / "swagger-ui-bundle.js",
    "favicon-32x32.png": _SWAGGER / "favicon-32x32.png",
    "patchbay-docs.js": _STATIC / "patchbay-docs.js",
}
_CACHE = {"Cache-Control": "public, max-age=86400"}


@router.get("/api/docs", name="api_docs")
async def docs_page() -> Response:
    return HTMLResponse((_STATIC / "docs.html").read_text())


@router.get("/api/docs/assets/{name}", name="api_docs_asset")
async def docs_asset(name: str) -> Response:
    path = ASSETS.get(name)
    if path is None:
        raise NotFound()
    return FileResponse(path, headers=_CACHE)
