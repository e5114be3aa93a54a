"""Files a package ships in its `static/` folder (the connect page's and the console's CSS and
script), read once at import and served from memory: no CDN, no disk read per request."""

from __future__ import annotations

from importlib import resources

from starlette.responses import Response

CSS = ".css"
JS = ".js"
MEDIA_TYPES = {CSS: "text/css; charset=utf-8", JS: "text/javascript; charset=utf-8"}


class PackageAssets:
    def __init__(
        self, package: str, suffixes: tuple[str, ...], headers: dict[str, str] | None = None
    ) -> None:
        self.headers = {
            "Cache-Control": "public, max-age=300",
            "X-Content-Type-Options": "nosniff",
            **(headers or {}),
        }
        self.files: dict[str, tuple[bytes, str]] = {}
        for item in (resources.files(package) / "static").iterdir():
            suffix = item.name[item.name.rfind(".") :]
            if suffix in suffixes:
                self.files[item.name] = (item.read_bytes(), MEDIA_TYPES[suffix])

    def response(self, name: str) -> Response | None:
        """The file as a response, or None for a name the package does not ship."""
        found = self.files.get(name)
        if found is None:
            return None
        body, media_type = found
        return Response(body, media_type=media_type, headers=self.headers)
