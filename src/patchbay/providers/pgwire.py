"""Kinds that connect to a PostgreSQL-protocol server a user names (`postgresql`, and `aws-redshift`
with a host): PostHog's checks of host, port, user, password and TLS settings, then one real
connection (psycopg 3) that proves them.

The host passes the address guard first and the connection goes to the address the guard checked
(`hostaddr`), so a second DNS answer is never used; TLS still verifies the certificate against the
name the user typed."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from patchbay.config import Settings
from patchbay.kit.dns import HostNotAllowed, ensure_public_host
from patchbay.kit.errors import ProviderUnreachable, ValidationError
from patchbay.providers.fields import required_text

if TYPE_CHECKING:
    import psycopg

TLS_MODES = ("require", "verify-ca", "verify-full")
# Without TLS, a password crosses the network in the clear: only towards networks the operator
# vouches for (PATCHBAY_USER_HOST_ALLOWED_NETWORKS), never towards a public address.
PLAIN_MODES = ("prefer", "disable")


@dataclass(frozen=True)
class ServerConfig:
    host: str
    port: int
    user: str
    password: str
    ssl_mode: str
    ssl_root_cert: str | None
    database: str | None
    address: str  # the checked address the connection goes to

    def scoped_id(self, project_id: int) -> str:
        """PostHog's id of a server connection: "{project}-{host}-{port}-{user}"."""
        return f"{project_id}-{self.host}-{self.port}-{self.user}"

    def public_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "ssl_mode": self.ssl_mode,
            "ssl_root_cert": self.ssl_root_cert,
        }
        if self.database is not None:
            config["database"] = self.database
        return config


def _inside_allowed_networks(settings: Settings, address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return any(ip.version == net.version and ip in net for net in settings.user_host_networks())


async def read_server_config(settings: Settings, config: Mapping[str, Any], kind: str) -> ServerConfig:
    """Validate in PostHog's order and with its words; the host is resolved and checked here."""
    host = required_text(config, "host", "Host", kind)
    try:
        addresses = await ensure_public_host(settings, host)
    except HostNotAllowed:
        raise ValidationError(f"Provided host '{host}' is not valid") from None
    try:
        port = int(config.get("port"))  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise ValidationError("Port must be an integer") from None
    if port > 65535 or port < 0:
        raise ValidationError(f"A valid port is required for an {kind} integration")
    user = required_text(config, "user", "A username", kind)
    password = required_text(config, "password", "A password", kind)
    ssl_mode = config.get("ssl_mode", "require")
    plain_allowed = all(_inside_allowed_networks(settings, a) for a in addresses)
    if ssl_mode not in TLS_MODES and not (plain_allowed and ssl_mode in PLAIN_MODES):
        raise ValidationError("SSL mode must be one of: require, verify-ca, verify-full")
    ssl_root_cert = config.get("ssl_root_cert")
    if ssl_mode in ("verify-ca", "verify-full"):
        if not ssl_root_cert:
            raise ValidationError("SSL root certificate must be provided when verifying server certificates")
        if not isinstance(ssl_root_cert, str):
            raise ValidationError("SSL root certificate must be a string")
    elif not isinstance(ssl_root_cert, str) or not ssl_root_cert:
        ssl_root_cert = None
    database = config.get("database")
    if database is not None and (not isinstance(database, str) or not database):
        raise ValidationError("Database must be a non-empty string")
    return ServerConfig(host, port, user, password, str(ssl_mode), ssl_root_cert, database, addresses[0])


@contextmanager
def _root_cert_file(contents: str | None) -> Iterator[str | None]:
    """libpq reads the root certificate from a file: the contents the user gave, written privately."""
    if contents is None:
        yield None
        return
    handle, path = tempfile.mkstemp(prefix="patchbay-pg-root-", suffix=".crt")
    try:
        with os.fdopen(handle, "w") as file:
            file.write(contents)
        yield path
    finally:
        os.unlink(path)


async def check_connection(server: ServerConfig, *, label: str, timeout: float) -> None:  # noqa: ASYNC109
    """Connect once and run `SELECT 1`; a refusal is a 400 in words about what to fix, an unreachable
    server a 503. Nothing the server says is echoed (it may quote what the user typed)."""
    import psycopg  # psycopg costs ~9 MB per worker: loaded on the first server check

    with _root_cert_file(server.ssl_root_cert) as cert_path:
        params: dict[str, Any] = {
            "host": server.host,
            "hostaddr": server.address,
            "port": server.port,
            "user": server.user,
            "password": server.password,
            "dbname": server.database or server.user,
            "sslmode": server.ssl_mode,
            "connect_timeout": max(1, int(timeout)),
            "application_name": "patchbay",
        }
        if cert_path is not None:
            params["sslrootcert"] = cert_path
        try:
            async with asyncio.timeout(timeout + 1):
                connection = await psycopg.AsyncConnection.connect(**params)
                async with connection:
                    await connection.execute("SELECT 1")
        except TimeoutError:
            raise _unreachable(server, label, timed_out=True) from None
        except psycopg.Error as exc:
            raise _refused(server, label, exc) from None


def _unreachable(server: ServerConfig, label: str, *, timed_out: bool) -> ProviderUnreachable:
    where = f"{server.host}:{server.port}"
    if timed_out:
        return ProviderUnreachable(f"{label} at {where} did not respond in time. Please try again.")
    return ProviderUnreachable(
        f"Could not connect to {label} at {where}. Check the host and port, then try again."
    )


def _refused(server: ServerConfig, label: str, exc: psycopg.Error) -> Exception:
    # libpq reports a refused login without a SQLSTATE: its words are the only signal.
    state = exc.sqlstate or ""
    text = str(exc).lower()
    if (
        state in {"28P01", "28000"}
        or "password authentication failed" in text
        or "no pg_hba.conf entry" in text
        or ('fatal:  role "' in text and "does not exist" in text)
    ):
        return ValidationError(f"{label} refused the user '{server.user}' or its password")
    if state == "3D000" or ('fatal:  database "' in text and "does not exist" in text):
        return ValidationError(f"Database '{server.database or server.user}' does not exist on {label} at {server.host}")
    if "does not support ssl" in text:
        return ValidationError(
            f"{label} at {server.host}:{server.port} does not accept SSL connections (ssl_mode '{server.ssl_mode}')"
        )
    if "certificate" in text or "ssl" in text:
        return ValidationError(f"Could not verify the SSL certificate of {label} at {server.host}:{server.port}")
    if "timeout" in text:
        return _unreachable(server, label, timed_out=True)
    return _unreachable(server, label, timed_out=False)
