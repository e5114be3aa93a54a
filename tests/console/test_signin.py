"""Signing in and out over plain HTTP: the cookie's attributes, rotation, expiry, throttling, CSRF."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from argon2 import PasswordHasher
from sqlalchemy import select, update

from patchbay.config import Settings
from patchbay.console import passwords
from patchbay.models import ConsoleSession, User
from patchbay.runtime import Runtime
from tests.console.helpers import PASSWORD, csrf_token, sign_in, signed_in, text_of, with_password
from tests.support.factory import Tenant


async def _sessions(runtime: Runtime) -> list[ConsoleSession]:
    async with runtime.db.session() as session:
        return list((await session.scalars(select(ConsoleSession).order_by(ConsoleSession.id))).all())


async def test_password_is_stored_as_argon2id(runtime: Runtime, tenant: Tenant) -> None:
    await with_password(runtime, tenant)
    async with runtime.db.session() as session:
        stored = await session.scalar(select(User.password_hash).where(User.id == tenant.user.id))
    assert stored is not None and stored.startswith("$argon2id$") and PASSWORD not in stored
    assert passwords.verify(stored, PASSWORD) and not passwords.verify(stored, PASSWORD + "x")


async def test_sign_in_sets_a_locked_down_cookie_and_opens_the_current_project(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    await with_password(runtime, tenant)
    answer = await sign_in(client, tenant.user.email.upper())
    assert answer.status_code == 303 and answer.headers["location"] == "/console"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("pb_console=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Path=/console" in cookie and "Secure" not in cookie  # the test site is http
    home = await client.get("/console")
    assert home.headers["location"] == f"/console/projects/{tenant.project.id}/integrations"
    (row,) = await _sessions(runtime)
    assert row.user_id == tenant.user.id and row.token_hash != client.cookies["pb_console"]


async def test_the_cookie_is_secure_on_an_https_site(
    make_settings: Any, tenant: Tenant, runtime: Runtime
) -> None:
    from patchbay.app import create_app

    settings: Settings = make_settings(site_url="https://patchbay.example")
    await with_password(runtime, tenant)
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://patchbay.example") as secure:
        answer = await sign_in(secure, tenant.user.email)
        assert answer.status_code == 303
        assert "Secure" in answer.headers["set-cookie"]
    await app.state.runtime.close()


async def test_a_wrong_password_opens_no_session(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    await with_password(runtime, tenant)
    answer = await sign_in(client, tenant.user.email, "not the password at all")
    assert answer.status_code == 400
    assert text_of(answer.text, "sign-in-error") == "The email or password is not right."
    assert "pb_console=" not in answer.headers.get("set-cookie", "")
    assert await _sessions(runtime) == []
    unknown = await sign_in(client, "nobody@example.com", PASSWORD)
    assert unknown.status_code == 400 and await _sessions(runtime) == []
    assert (await client.get("/console/keys")).headers["location"] == "/console/sign-in"


async def test_a_user_without_a_password_cannot_sign_in(client: httpx.AsyncClient, tenant: Tenant) -> None:
    assert (await sign_in(client, tenant.user.email, "")).status_code == 400
    assert (await sign_in(client, tenant.user.email, PASSWORD)).status_code == 400


async def test_signing_in_again_rotates_the_session(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    await signed_in(client, runtime, tenant)
    first = client.cookies["pb_console"]
    assert (await sign_in(client, tenant.user.email)).status_code == 303
    second = client.cookies["pb_console"]
    assert second != first and len(await _sessions(runtime)) == 1
    client.cookies.set("pb_console", first, path="/console")
    assert (await client.get("/console/keys")).status_code == 303  # the old value opens nothing


async def test_failed_sign_ins_are_throttled_per_account(
    make_settings: Any, runtime: Runtime, tenant: Tenant
) -> None:
    from patchbay.app import create_app

    app = create_app(make_settings(console_signin_rate_limit="3/hour"))
    await with_password(app.state.runtime, tenant)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as browser:
        for _ in range(3):
            assert (await sign_in(browser, tenant.user.email, "wrong password!")).status_code == 400
        refused = await sign_in(browser, tenant.user.email, PASSWORD)  # even the right one, now
        # The limiter's own wait: what is left of the hour's window (fixed, aligned on the hour).
        left = 3600 - time.time() % 3600
        assert refused.status_code == 429
        assert left - 2 <= int(refused.headers["retry-after"]) <= left + 2
        assert "Too many failed sign-ins" in refused.text
        assert await _sessions(runtime) == []
    await app.state.runtime.close()


async def test_failed_sign_ins_are_throttled_per_address(
    make_settings: Any, runtime: Runtime, factory: Any
) -> None:
    from patchbay.app import create_app

    app = create_app(make_settings(console_signin_rate_limit="3/minute"))
    target = await with_password(app.state.runtime, await factory.tenant())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as browser:
        for n in range(3):  # three different accounts from one address
            assert (await sign_in(browser, f"guess{n}@example.com", "wrong password!")).status_code == 400
        assert (await sign_in(browser, target.user.email, PASSWORD)).status_code == 429
    await app.state.runtime.close()


async def test_idle_and_absolute_expiry(client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant) -> None:
    await signed_in(client, runtime, tenant)
    assert (await client.get("/console/keys")).status_code == 200
    async with runtime.db.transaction() as session:
        await session.execute(
            update(ConsoleSession).values(last_seen_at=datetime.now(UTC) - timedelta(minutes=31))
        )
    assert (await client.get("/console/keys")).headers["location"] == "/console/sign-in"
    assert await _sessions(runtime) == []  # the idle session is gone
    await signed_in(client, runtime, tenant)
    async with runtime.db.transaction() as session:
        await session.execute(
            update(ConsoleSession).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert (await client.get("/console/keys")).headers["location"] == "/console/sign-in"


async def test_sign_in_without_its_csrf_token_is_refused(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    await with_password(runtime, tenant)
    page = await client.get("/console/sign-in")
    token = csrf_token(page.text)
    form = {"email": tenant.user.email, "password": PASSWORD}
    assert (await client.post("/console/sign-in", data=form)).status_code == 403
    assert (await client.post("/console/sign-in", data={**form, "csrf_token": "0" * 64})).status_code == 403
    client.cookies.clear()  # a cross-site post carries the token of someone else's page, no cookie
    assert (await client.post("/console/sign-in", data={**form, "csrf_token": token})).status_code == 403
    assert await _sessions(runtime) == []


async def test_sign_out_ends_the_session(client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant) -> None:
    token = await signed_in(client, runtime, tenant)
    value = client.cookies["pb_console"]
    out = await client.post("/console/sign-out", data={"csrf_token": token})
    assert out.status_code == 303 and out.headers["location"].startswith("/console/sign-in")
    assert await _sessions(runtime) == []
    client.cookies.set("pb_console", value, path="/console")  # replaying the old cookie
    assert (await client.get("/console/keys")).headers["location"] == "/console/sign-in"


async def test_a_deactivated_user_is_signed_out(client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant) -> None:
    await signed_in(client, runtime, tenant)
    assert (await client.get("/console/keys")).status_code == 200
    async with runtime.db.transaction() as session:
        await session.execute(update(User).where(User.id == tenant.user.id).values(is_active=False))
    assert (await client.get("/console/keys")).headers["location"] == "/console/sign-in"


async def test_signing_in_sweeps_sessions_that_expired_or_went_idle(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    """Either clock alone ends a session: one past its absolute expiry but seen a minute ago goes, and
    so does one idle for an hour with days left; a live one stays."""
    await with_password(runtime, tenant)  # setting a password ends the user's sessions: first
    now = datetime.now(UTC)
    left = {
        "expired, seen lately": (now - timedelta(minutes=1), now - timedelta(seconds=1)),
        "idle, not expired": (now - timedelta(hours=1), now + timedelta(days=3)),
        "live": (now - timedelta(minutes=1), now + timedelta(days=3)),
    }
    async with runtime.db.transaction() as session:
        for name, (seen, expires) in left.items():
            session.add(
                ConsoleSession(
                    token_hash=name, user_id=tenant.user.id, created_at=now - timedelta(days=1),
                    last_seen_at=seen, expires_at=expires,
                )
            )  # fmt: skip
    assert (await sign_in(client, tenant.user.email)).status_code == 303
    kept = {row.token_hash for row in await _sessions(runtime)}
    assert "live" in kept and len(kept) == 2


async def test_a_deactivated_user_cannot_sign_in(client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant) -> None:
    await with_password(runtime, tenant)
    async with runtime.db.transaction() as session:
        await session.execute(update(User).where(User.id == tenant.user.id).values(is_active=False))
    assert (await sign_in(client, tenant.user.email)).status_code == 400
    assert await _sessions(runtime) == []


async def test_a_csrf_token_is_good_for_its_own_session_only(
    client: httpx.AsyncClient, app: Any, runtime: Runtime, tenant: Tenant
) -> None:
    mine = await signed_in(client, runtime, tenant)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as other:
        assert (await sign_in(other, tenant.user.email)).status_code == 303
        theirs = csrf_token((await other.get("/console/keys")).text)
        assert theirs != mine
        assert (await other.post("/console/sign-out", data={"csrf_token": mine})).status_code == 403
    assert len(await _sessions(runtime)) == 2


async def test_an_outdated_password_hash_is_replaced_on_sign_in(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    await with_password(runtime, tenant)
    outdated = PasswordHasher(time_cost=1, memory_cost=8192).hash(PASSWORD)
    async with runtime.db.transaction() as session:
        await session.execute(update(User).where(User.id == tenant.user.id).values(password_hash=outdated))
    assert (await sign_in(client, tenant.user.email)).status_code == 303
    async with runtime.db.session() as session:
        stored = await session.scalar(select(User.password_hash).where(User.id == tenant.user.id))
    assert stored is not None and stored != outdated
    assert passwords.verify(stored, PASSWORD) and not passwords.needs_rehash(stored)
