"""`patchbay domain-connect …`: what an operator publishes so DNS providers trust Patchbay's apply
URLs — the public-key TXT records and the four templates — and a way to make a signing key."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import typer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from patchbay.config import Settings
from patchbay.domain_connect import template_store
from patchbay.domain_connect.signing import (
    SigningKeyInvalid,
    load_private_key,
    public_key_host,
    public_key_txt_records,
)

app = typer.Typer(no_args_is_help=True, help="Domain Connect: signing key, public-key records, templates.")
JSON_OPTION = typer.Option(False, "--json", help="Print one JSON object on stdout.")


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def _print_json(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data) + "\n")


@app.command("public-key")
def public_key(as_json: bool = JSON_OPTION) -> None:
    """Print the TXT records (`p=…,a=RS256,d=…`) to publish at `{key id}.domainconnect.{provider id}`."""
    settings = Settings()
    try:
        key = load_private_key(settings)
    except SigningKeyInvalid as exc:
        _fail(str(exc))
    if key is None:
        _fail(
            "no signing key: set PATCHBAY_DOMAIN_CONNECT_PRIVATE_KEY or PATCHBAY_DOMAIN_CONNECT_PRIVATE_KEY_FILE"
        )
    host = public_key_host(settings)
    records = public_key_txt_records(key)
    if as_json:
        _print_json({"host": host, "type": "TXT", "records": records})
        return
    for value in records:
        typer.echo(f'{host}.\t3600\tIN\tTXT\t"{value}"')


@app.command("templates")
def templates(
    out: Path | None = typer.Option(
        None, "--out", help="Write one `providerId.serviceId.json` per template here."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """The four templates (email verification and reverse proxy, US and EU) for the configured provider id."""
    rendered = template_store.templates(Settings())
    if out is not None:
        try:
            out.mkdir(parents=True, exist_ok=True)
            for template in rendered.values():
                (out / template_store.file_name(template)).write_text(json.dumps(template, indent=2) + "\n")
        except OSError as exc:
            _fail(f"cannot write templates to {out}: {exc.strerror}")
    files = [template_store.file_name(t) for t in rendered.values()]
    if as_json:
        _print_json({"templates": list(rendered.values()), "files": files})
    elif out is None:
        typer.echo(json.dumps(list(rendered.values()), indent=2))
    else:
        for name in files:
            typer.echo(str(out / name))


@app.command("generate-key")
def generate_key(
    out: Path = typer.Option(..., "--out", help="File for the new PEM private key (created with mode 600)."),
    bits: int = typer.Option(2048, "--bits", min=2048, max=4096),
) -> None:
    """Create an RSA signing key; point PATCHBAY_DOMAIN_CONNECT_PRIVATE_KEY_FILE at it."""
    if out.exists():
        _fail(f"{out} already exists; refusing to overwrite a signing key")
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        _fail(f"cannot create {out}: {exc.strerror}")
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    typer.echo(str(out))
