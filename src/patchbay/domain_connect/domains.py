"""Root domain and host of a name, from the Public Suffix List snapshot bundled with tldextract."""

from __future__ import annotations

from functools import lru_cache

import tldextract


@lru_cache(maxsize=1)
def _extractor() -> tldextract.TLDExtract:
    # No URLs and no cache directory: the bundled snapshot is read, nothing is downloaded or written.
    return tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), include_psl_private_domains=False)


def root_and_host(domain: str) -> tuple[str, str]:
    """`track.sub.example.co.uk` -> (`example.co.uk`, `track.sub`); `localhost` -> (`localhost`, ``)."""
    name = domain.strip().rstrip(".").lower()
    parts = _extractor()(name)
    if not parts.suffix:
        return (parts.domain or name), ""
    if not parts.domain:
        return parts.suffix, ""
    return f"{parts.domain}.{parts.suffix}", parts.subdomain
