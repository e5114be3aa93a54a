"""EmailSenderRepository: a project's senders are its own email integrations; a domain is looked up
across the organization (it belongs to one) and, for the other-organization check and the SES
cleanup, across all — each statement exactly as wide as it says."""

from __future__ import annotations

from typing import Any

from patchbay.email_sender.repository import EmailSenderRepository, domain_in_use
from patchbay.models import Integration
from patchbay.runtime import Runtime
from tests.support.factory import Factory, Tenant


async def sender(factory: Factory, project: Any, email: str, provider: str = "ses") -> Integration:
    domain = email.split("@")[1]
    config = {"email": email, "domain": domain, "provider": provider}
    return await factory.integration(project, "email", email, config=config)


async def test_every_statement_is_as_wide_as_it_says(
    runtime: Runtime, tenant: Tenant, factory: Factory
) -> None:
    other = await factory.tenant()
    sibling = await factory.project(tenant.organization)
    mine = await sender(factory, tenant.project, "a@Shop.test")
    not_a_sender = await factory.integration(tenant.project, "twilio", "AC1", config={"domain": "shop.test"})
    beside = await sender(factory, sibling, "b@shop.test")
    theirs = await sender(factory, other.project, "c@theirs.test")
    their_other = await sender(factory, other.project, "d@other.test", provider="maildev")
    # Not a sender, though its config names a domain: it claims nothing.
    await factory.integration(other.project, "twilio", "AC2", config={"domain": "claimed.test"})

    async with runtime.db.session() as session:
        repo = EmailSenderRepository(session, tenant.project.id, tenant.organization.id)
        assert [r.id for r in (await session.scalars(repo.readable_statement())).all()] == [mine.id]
        got = await repo.get(mine.id)
        assert got is not None and got.id == mine.id
        for pk in (not_a_sender.id, beside.id, theirs.id):
            assert await repo.get(pk) is None
        assert await repo.kind_of(not_a_sender.id) == "twilio"
        assert await repo.kind_of(mine.id) == "email"
        assert await repo.kind_of(beside.id) is None and await repo.kind_of(theirs.id) is None
        assert [r.id for r in await repo.same_domain_in_project("SHOP.test")] == [mine.id]
        assert {r.id for r in await repo.same_domain_in_organization("shop.test")} == {mine.id, beside.id}
        assert await repo.same_domain_in_organization("theirs.test") == []
        assert await repo.domain_used_by_other_organization("theirs.test") is True
        assert await repo.domain_used_by_other_organization("shop.test") is False
        assert await repo.domain_used_by_other_organization("claimed.test") is False

        theirs_repo = EmailSenderRepository(session, other.project.id, other.organization.id)
        assert await theirs_repo.domain_used_by_other_organization("shop.test") is True
        assert await theirs_repo.domain_used_by_other_organization("theirs.test") is False

        assert await domain_in_use(session, "shop.test", "ses") is True
        assert await domain_in_use(session, "theirs.test", "ses") is True
        assert await domain_in_use(session, "other.test", "ses") is False, "another provider's identity"
        assert await domain_in_use(session, "other.test", "maildev") is True
        assert await domain_in_use(session, "unused.test", "ses") is False
    assert their_other.id != theirs.id


async def test_a_non_sender_on_a_domain_does_not_keep_it_in_use(
    runtime: Runtime, tenant: Tenant, factory: Factory
) -> None:
    await factory.integration(
        tenant.project, "twilio", "AC1", config={"domain": "gone.test", "provider": "ses"}
    )
    async with runtime.db.session() as session:
        assert await domain_in_use(session, "gone.test", "ses") is False
    async with runtime.db.transaction() as session:
        repo = EmailSenderRepository(session, tenant.project.id, tenant.organization.id)
        assert await repo.get(1_000_000, for_update=True) is None
