"""A worker imports `patchbay.asgi` only: the libraries that serve rare provider checks (psycopg,
botocore, google-auth, azure-storage-blob, …) load when first used, not with the app (their import
alone cost ~33 MB per worker)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

# Loaded on first use (providers.pgwire, providers.aws.sts, providers.s3_compatible,
# providers.google_cloud.token, providers.azure_blob, kit.hostnames, kit.search).
LAZY_MODULES = (
    "psycopg",
    "boto3",
    "botocore",
    "google.auth",
    "google.oauth2",
    "azure.storage.blob",
    "tldextract",
    "rapidfuzz",
)
PROBE = "import json, sys; import patchbay.asgi; print(json.dumps([m for m in sys.argv[1:] if m in sys.modules]))"


def test_importing_the_app_leaves_rare_provider_libraries_unloaded(tmp_path: Path) -> None:
    env = {**os.environ, "PATCHBAY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'patchbay.db'}"}
    # The working directory is tmp_path: the app writes its key file (patchbay.keys) there.
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *LAZY_MODULES],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == []
