"""tenancy.service.organization_context_for_user: the console's signed-in user acts on an
organization as a key with every scope would, marked as a browser session; anyone who is not an
active member finds nothing (404, so an id never confirms it exists)."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from patchbay.kit.errors import NotFound
from patchbay.models import MembershipLevel, User
from patchbay.runtime import Runtime
from patchbay.tenancy.service import organization_context_for_user
from tests.support.factory import Factory, Tenant


async def test_a_member_gets_the_context_of_a_browser_session(
    runtime: Runtime, tenant: Tenant, factory: Factory
) -> None:
    member = await factory.member_of(tenant, MembershipLevel.MEMBER)
    async with runtime.db.session() as session:
        ctx = await organization_context_for_user(
            runtime, session, user_id=member.user.id, organization_id=tenant.organization.id
        )
    assert ctx.organization_id == tenant.organization.id
    assert ctx.organization_name == tenant.organization.name
    assert ctx.level == MembershipLevel.MEMBER
    subject = ctx.subject
    assert subject.user.id == member.user.id
    assert subject.scopes == ["*"] and subject.key_id == ""
    assert subject.scoped_projects is None and subject.scoped_organizations is None
    assert subject.browser_session is True


async def test_strangers_and_deactivated_users_find_nothing(
    runtime: Runtime, tenant: Tenant, factory: Factory
) -> None:
    stranger = await factory.tenant()
    async with runtime.db.session() as session:
        with pytest.raises(NotFound):
            await organization_context_for_user(
                runtime, session, user_id=stranger.user.id, organization_id=tenant.organization.id
            )
    async with runtime.db.transaction() as session:
        await session.execute(update(User).where(User.id == tenant.user.id).values(is_active=False))
    async with runtime.db.session() as session:
        with pytest.raises(NotFound):
            await organization_context_for_user(
                runtime, session, user_id=tenant.user.id, organization_id=tenant.organization.id
            )
