"""`patchbay domain-connect …` (the Typer sub-app the main CLI mounts)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from typer.testing import CliRunner

from patchbay.cli.domain_connect import app
from patchbay.domain_connect.signing import sign

runner = CliRunner()
CLEAN_ENV = {"PATCHBAY_DOMAIN_CONNECT_PRIVATE_KEY": "", "PATCHBAY_DOMAIN_CONNECT_PRIVATE_KEY_FILE": ""}


def test_generate_key_then_print_its_public_records(tmp_path: Path) -> None:
    key_file = tmp_path / "dc.pem"
    result = runner.invoke(app, ["generate-key", "--out", str(key_file)])
    assert result.exit_code == 0, result.output
    assert key_file.stat().st_mode & 0o777 == 0o600
    again = runner.invoke(app, ["generate-key", "--out", str(key_file)])
    assert again.exit_code == 1
    assert "refusing to overwrite" in again.output

    env = {**CLEAN_ENV, "PATCHBAY_DOMAIN_CONNECT_PRIVATE_KEY_FILE": str(key_file)}
    result = runner.invoke(app, ["public-key", "--json"], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["host"] == "_dcpubkeyv1.domainconnect.patchbay.dev"
    # The printed records carry the key that signs: a signature made with the file verifies with them.
    der = base64.b64decode("".join(r.split(",d=", 1)[1] for r in sorted(data["records"])))
    public = serialization.load_der_public_key(der)
    private = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    assert isinstance(public, rsa.RSAPublicKey) and isinstance(private, rsa.RSAPrivateKey)
    public.verify(
        base64.b64decode(sign("domain=a.com", private)), b"domain=a.com", padding.PKCS1v15(), hashes.SHA256()
    )

    text = runner.invoke(app, ["public-key"], env=env)
    lines = text.stdout.strip().splitlines()
    assert len(lines) == len(data["records"])
    assert lines[0].startswith('_dcpubkeyv1.domainconnect.patchbay.dev.\t3600\tIN\tTXT\t"p=1,a=RS256,d=')


def test_public_key_without_a_key_fails_in_one_line() -> None:
    result = runner.invoke(app, ["public-key"], env=CLEAN_ENV)
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0
    assert result.output.startswith("error: no signing key")


def test_templates_written_for_the_configured_provider(tmp_path: Path) -> None:
    env = {"PATCHBAY_DOMAIN_CONNECT_PROVIDER_ID": "dns.acme.io", "PATCHBAY_SITE_URL": "https://pb.acme.io"}
    result = runner.invoke(app, ["templates", "--out", str(tmp_path / "t")], env=env)
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "t").iterdir())
    assert names == [
        "dns.acme.io.email-verification-eu.json",
        "dns.acme.io.email-verification-us.json",
        "dns.acme.io.reverse-proxy-eu.json",
        "dns.acme.io.reverse-proxy-us.json",
    ]
    template = json.loads((tmp_path / "t" / names[0]).read_text())
    assert template["syncRedirectDomain"] == "pb.acme.io"
    as_json = runner.invoke(app, ["templates", "--json"], env=env)
    assert len(json.loads(as_json.stdout)["templates"]) == 4
