"""Root domain and host from the bundled Public Suffix List (PostHog's tested cases)."""

from __future__ import annotations

import pytest

from patchbay.kit.hostnames import root_and_host


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("ph.example.com", ("example.com", "ph")),
        ("a.b.c.example.com", ("example.com", "a.b.c")),
        ("ph.example.co.uk", ("example.co.uk", "ph")),
        ("track.sub.example.co.uk", ("example.co.uk", "track.sub")),
        ("app.example.com.au", ("example.com.au", "app")),
        ("ph.example.com.", ("example.com", "ph")),
        ("localhost", ("localhost", "")),
        ("example.com", ("example.com", "")),
        ("PH.Example.COM", ("example.com", "ph")),
        # Private suffixes are ignored, as PostHog does (ICANN section only).
        ("app.github.io", ("github.io", "app")),
    ],
)
def test_root_and_host(domain: str, expected: tuple[str, str]) -> None:
    assert root_and_host(domain) == expected


def test_no_download_and_no_cache_dir() -> None:
    from patchbay.kit.hostnames import _extractor

    extractor = _extractor()
    assert extractor.suffix_list_urls == ()
    assert extractor._cache.enabled is False
