"""Organizations and projects: the user's memberships, and choosing the current project (what
`@current` means in the API and where the console opens)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.responses import Response

from patchbay.account import service as accounts
from patchbay.account.repository import AccountRepository
from patchbay.console.web import Browser, ConsoleRoute, back, posted, signed_in
from patchbay.kit.errors import PermissionDenied

router = APIRouter(route_class=ConsoleRoute)

LEVEL_NAMES = {int(level): name.capitalize() for name, level in accounts.LEVEL_NAMES.items()}


@router.get("/console/organizations")
async def organizations_page(browser: Browser = Depends(signed_in)) -> Response:
    found = await accounts.memberships(browser.db, browser.user_id)
    return browser.page(
        "organizations.html", memberships=found, level_names=LEVEL_NAMES, area="organizations"
    )


@router.post("/console/projects/{project_id}/current")
async def make_current(project_id: str, browser: Browser = Depends(posted)) -> Response:
    ctx = await browser.project(project_id)  # members only, as the API's project routes
    repo = AccountRepository(browser.db)
    user, project = await repo.user_by_id(browser.user_id), await repo.project(ctx.project.id)
    assert user is not None and project is not None
    try:
        await accounts.use_project(browser.db, user, project)
    except accounts.AccountError as refused:
        raise PermissionDenied(str(refused)) from None
    await browser.db.commit()
    return back("/console/organizations", "current")
