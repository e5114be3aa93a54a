"""Root domain and host of a name, from the Public Suffix List snapshot bundled with tldextract."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tldextract


@lru_cache(maxsize=1)
def _extractor() -> tldextract.TLDExtract:
    # tldextract (with requests, urllib3 and filelock) costs ~4 MB per worker: loaded on first use.
    import tldextract

    # No URLs and no cache directory: the bundled snapshot is read, nothing is downloaded or written.
    return tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), include_psl_private_domains=False)


_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
MAX_NAME = 253


def normalize(domain: str) -> str:
    return domain.strip().rstrip(".").lower()


def is_label(label: str) -> bool:
    """One DNS label: letters, digits and inner hyphens (lower-case), at most 63 characters."""
    return bool(_LABEL.match(label))


def is_hostname(name: str) -> bool:
    """A normalized DNS name with at least two labels."""
    labels = name.split(".")
    return len(name) <= MAX_NAME and len(labels) >= 2 and all(is_label(label) for label in labels)


def root_and_host(domain: str) -> tuple[str, str]:
    """`track.sub.example.co.uk` -> (`example.co.uk`, `track.sub`); `localhost` -> (`localhost`, ``)."""
    name = normalize(domain)
    parts = _extractor()(name)
    if not parts.suffix:
        return (parts.domain or name), ""
    if not parts.domain:
        return parts.suffix, ""
    return f"{parts.domain}.{parts.suffix}", parts.subdomain
