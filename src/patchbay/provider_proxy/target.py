"""Where a proxy call goes: the kind's API base + the caller's path, and never anywhere else.

The path is judged as the caller sent it (percent-encoded), then decoded and normalised and judged
again: `..` and `.` segments (also `%2e%2e`), empty segments (`//`), an encoded slash (`%2F`),
backslashes, a scheme, `@`, control characters and any non-ASCII character (full-width dots and
slashes, IDNA look-alikes ...) are refused with a 400 on `path`, before anything is sent. The
target is rebuilt from the decoded segments and checked to sit under the base."""

from __future__ import annotations

import re
from urllib.parse import quote, unquote_to_bytes, urlsplit

from patchbay.kit.errors import ValidationError

# The part after /proxy of /api/{projects|environments}/{id}/integrations/{id}/proxy/...
_PROXY_PREFIX = re.compile(rb"^/api/[^/]+/[^/]+/integrations/[^/]+/proxy(?=/|$)")
# For kit.body_limit: the proxy's own request body cap (PATCHBAY_PROXY_MAX_BODY_BYTES).
PROXY_PATH_PATTERN = r"/api/[^/]+/[^/]+/integrations/[^/]+/proxy(/|$)"
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
# Characters kept as they are when a decoded segment is encoded again (RFC 3986 pchar, less "@").
_SEGMENT_SAFE = "-._~!$&'()*+,;=:"
_QUERY_KEY = b"personal_api_key"

INVALID = "This path cannot be proxied: it must stay under the provider's API base."


def _refuse(reason: str) -> ValidationError:
    return ValidationError(f"{INVALID} ({reason})", attr="path")


def raw_proxy_path(raw_path: bytes) -> bytes:
    """The caller's path below /proxy, still percent-encoded (b"" when there is none)."""
    match = _PROXY_PREFIX.match(raw_path)
    if match is None:
        raise _refuse("not a proxy path")
    return raw_path[match.end() :]


def _decoded_segments(raw: bytes) -> list[str]:
    # (No-mutate on the decodes of this module: codec names ignore case, so such mutants are equivalent.)
    try:
        text = raw.decode("ascii")  # pragma: no mutate
    except UnicodeDecodeError:
        raise _refuse("raw non-ASCII bytes") from None
    if "\\" in text:
        raise _refuse("backslash")
    lowered = text.lower()
    if "%2f" in lowered or "%5c" in lowered:
        raise _refuse("encoded slash")
    if "@" in text or "%40" in lowered:
        raise _refuse("@")
    if text in ("", "/"):
        return []
    if not text.startswith("/"):
        raise _refuse("relative path")
    segments: list[str] = []
    for raw_segment in text[1:].split("/"):
        try:
            segment = unquote_to_bytes(raw_segment).decode("utf-8")  # pragma: no mutate
        except UnicodeDecodeError:
            raise _refuse("not UTF-8") from None
        segments.append(segment)
    return segments


def _check_segment(index: int, segment: str, last: bool) -> None:
    if segment == "":
        if last:
            return  # a trailing slash is the caller's to send
        raise _refuse("empty segment")
    if segment in (".", ".."):
        raise _refuse("dot segment")
    if any(ord(c) < 0x20 or ord(c) == 0x7F or c.isspace() and c != " " for c in segment):
        raise _refuse("control character")
    if not segment.isascii():
        # Look-alike dots and slashes (full-width, division slash ...), IDNA tricks: API paths are
        # ASCII, so anything else is refused rather than judged character by character.
        raise _refuse("non-ASCII characters")
    if any(c in segment for c in "/\\@"):
        raise _refuse("separator inside a segment")
    if index == 0 and _SCHEME.match(segment):
        raise _refuse("scheme")


def safe_query(raw_query: bytes) -> str:
    """The query string as sent, less a `personal_api_key` (Patchbay's key is never forwarded)."""
    text = raw_query.decode("latin-1")  # pragma: no mutate
    parts = text.split("&")
    return "&".join(p for p in parts if unquote_to_bytes(p.partition("=")[0]) != _QUERY_KEY)


def build_target(base_url: str, raw_path: bytes, raw_query: bytes) -> str:
    """The URL to call; ValidationError (attr "path") when the path would leave the base."""
    segments = _decoded_segments(raw_path)
    for index, segment in enumerate(segments):
        _check_segment(index, segment, index == len(segments) - 1)
    base = base_url.rstrip("/")  # pragma: no mutate (no API base ends in X)
    path = "/".join(quote(segment, safe=_SEGMENT_SAFE) for segment in segments)
    target = f"{base}/{path}" if segments else base
    # Belt and braces: the rebuilt URL has the base's scheme and host, and its path under the base's.
    # No path that passed the segment checks fails this, so its mutants cannot be told apart.
    # pragma: no mutate start
    parsed, expected = urlsplit(target), urlsplit(base)
    if (parsed.scheme, parsed.netloc) != (expected.scheme, expected.netloc) or not (
        parsed.path == expected.path or parsed.path.startswith(expected.path.rstrip("/") + "/")
    ):
        raise _refuse("outside the base")
    # pragma: no mutate end
    query = safe_query(raw_query)
    return f"{target}?{query}" if query else target


def display_path(raw_path: bytes) -> str:
    """The path as the activity log keeps it: decoded, without a query string."""
    text = unquote_to_bytes(raw_path).decode("utf-8", "replace")  # pragma: no mutate
    return text or "/"
