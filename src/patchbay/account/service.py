"""Users, organizations, projects, memberships and API keys: the rules, shared by CLI, tests and APIs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from patchbay.account.repository import AccountRepository
from patchbay.auth.keys import (
    generate_key_value,
    hash_key_value,
    mask_key_value,
    project_api_token,
    random_token,
)
from patchbay.auth.scopes import invalid_scope_message, validate_scope
from patchbay.models import (
    MembershipLevel,
    Organization,
    OrganizationMembership,
    PersonalAPIKey,
    Project,
    User,
)

MAX_KEYS_PER_USER = 10
LEVEL_NAMES = {
    "member": MembershipLevel.MEMBER,
    "admin": MembershipLevel.ADMIN,
    "owner": MembershipLevel.OWNER,
}


class AccountError(ValueError):
    """Bad input to an account operation; the message is shown to the person as is."""


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    local, sep, domain = email.partition("@")
    if not sep or not local or "." not in domain or " " in email:
        raise AccountError(f"'{email}' is not a valid email address")
    return email


async def ensure_user(session: AsyncSession, email: str, *, first_name: str = "") -> tuple[User, bool]:
    repo = AccountRepository(session)
    email = normalize_email(email)
    existing = await repo.user_by_email(email)
    if existing is not None:
        return existing, False
    user = User(email=email, first_name=first_name, distinct_id=random_token(24), uuid=uuid.uuid4())
    await repo.add(user)
    return user, True


async def create_organization(session: AsyncSession, name: str, owner: User) -> Organization:
    name = name.strip()
    if not name or len(name) > 64:
        raise AccountError("organization name must be 1 to 64 characters")
    repo = AccountRepository(session)
    org = await repo.add(Organization(name=name))
    await repo.add(
        OrganizationMembership(organization_id=org.id, user_id=owner.id, level=MembershipLevel.OWNER)
    )
    if owner.current_organization_id is None:
        await repo.set_current(owner.id, org.id, None)
        owner.current_organization_id = org.id
    return org


async def create_project(session: AsyncSession, organization: Organization, name: str) -> Project:
    name = name.strip()
    if not name or len(name) > 200:
        raise AccountError("project name must be 1 to 200 characters")
    repo = AccountRepository(session)
    project = await repo.add(
        Project(organization_id=organization.id, name=name, api_token=project_api_token())
    )
    # `@current` must mean something right after set-up: members with no current project get this one.
    await repo.make_current_where_unset(project)
    return project


async def set_current_project(session: AsyncSession, user: User, project: Project) -> None:
    await AccountRepository(session).set_current(user.id, project.organization_id, project.id)
    user.current_project_id = project.id
    user.current_organization_id = project.organization_id


async def use_project(session: AsyncSession, user: User, project: Project) -> None:
    """Make `project` the user's current one (what `@current` means); members only."""
    if await AccountRepository(session).membership(project.organization_id, user.id) is None:
        raise AccountError(
            f"{user.email} is not a member of organization {project.organization_id}, "
            f"which project {project.id} belongs to"
        )
    await set_current_project(session, user, project)


async def add_member(
    session: AsyncSession, organization: Organization, user: User, level: int
) -> OrganizationMembership:
    if level not in set(LEVEL_NAMES.values()):
        raise AccountError("level must be member, admin or owner")
    repo = AccountRepository(session)
    membership = await repo.membership(organization.id, user.id)
    if membership is None:
        membership = await repo.add(
            OrganizationMembership(organization_id=organization.id, user_id=user.id, level=level)
        )
    else:
        membership.level = level
        await session.flush()
    if user.current_project_id is None:
        first = await repo.first_project(organization.id)
        if first is not None:
            await set_current_project(session, user, first)
    if user.current_organization_id is None:
        await repo.set_current(user.id, organization.id, None)
        user.current_organization_id = organization.id
    return membership


@dataclass
class CreatedKey:
    key: PersonalAPIKey
    value: str


async def create_api_key(
    session: AsyncSession,
    user: User,
    *,
    label: str = "",
    scopes: list[str] | None = None,
    scoped_projects: list[int] | None = None,
    scoped_organizations: list[str] | None = None,
) -> CreatedKey:
    repo = AccountRepository(session)
    scopes = scopes or ["*"]
    for scope in scopes:
        if not validate_scope(scope):
            raise AccountError(invalid_scope_message(scope))
    if len(label) > 40:
        raise AccountError("label must be at most 40 characters")
    if await repo.count_keys(user.id) >= MAX_KEYS_PER_USER:
        raise AccountError(
            "You can only have 10 personal API keys. Remove an existing key before creating a new one."
        )
    member_orgs = await repo.member_organization_ids(user.id)
    for project_id in scoped_projects or []:
        project = await repo.project(project_id)
        if project is None or project.organization_id not in member_orgs:
            raise AccountError("You must be a member of all teams that you are scoping the key to.")
    normalized_orgs: list[str] = []
    for raw in scoped_organizations or []:
        try:
            org_id = uuid.UUID(str(raw))
        except ValueError:
            raise AccountError("Invalid organization UUID") from None
        if org_id not in member_orgs:
            raise AccountError("You must be a member of all organizations that you are scoping the key to.")
        normalized_orgs.append(str(org_id))
    value = generate_key_value()
    key = PersonalAPIKey(
        id=random_token(24),
        user_id=user.id,
        label=label,
        mask_value=mask_key_value(value),
        secure_value=hash_key_value(value),
        scopes=scopes,
        scoped_projects=scoped_projects or None,
        scoped_organizations=normalized_orgs or None,
    )
    await repo.add(key)
    return CreatedKey(key=key, value=value)


async def revoke_api_key(session: AsyncSession, key_id: str) -> PersonalAPIKey:
    """Delete a personal API key. On PostgreSQL the delete notifies every worker (migration 0002),
    which drop their cached callers; SQLite caches nothing, so the next request is refused either way."""
    repo = AccountRepository(session)
    key = await repo.key(key_id.strip())
    if key is None:
        raise AccountError(f"no API key with id {key_id}")
    await repo.delete_key(key)
    return key


async def revoke_own_api_key(session: AsyncSession, user_id: int, key_id: str) -> PersonalAPIKey:
    """Delete one of the user's own keys; another user's key is answered as unknown."""
    repo = AccountRepository(session)
    key = await repo.key(key_id.strip())
    if key is None or key.user_id != user_id:
        raise AccountError(f"no API key with id {key_id}")
    await repo.delete_key(key)
    return key


async def memberships(session: AsyncSession, user_id: int) -> list[tuple[Organization, int, list[Project]]]:
    """The user's organizations (with their level) and each one's projects, by name."""
    repo = AccountRepository(session)
    found = []
    for organization, level in await repo.organizations_of(user_id):
        found.append((organization, level, await repo.projects(organization.id)))
    return found


@dataclass
class Bootstrapped:
    user: User
    organization: Organization
    project: Project
    api_key: CreatedKey


async def bootstrap(
    session: AsyncSession,
    *,
    email: str,
    organization_name: str = "Default organization",
    project_name: str = "Default project",
    scopes: list[str] | None = None,
) -> Bootstrapped:
    """A user, an organization they own, a project in it (their current one) and an API key."""
    user, _ = await ensure_user(session, email)
    org = await create_organization(session, organization_name, user)
    project = await create_project(session, org, project_name)
    await set_current_project(session, user, project)
    key = await create_api_key(session, user, label="bootstrap", scopes=scopes)
    return Bootstrapped(user=user, organization=org, project=project, api_key=key)
