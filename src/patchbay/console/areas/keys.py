"""The API keys page: the signed-in user's own keys (create with scopes from a list, the value shown
once; last use; revoke), through the account service the CLI uses."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.responses import Response

from patchbay.account import service as accounts
from patchbay.account.repository import AccountRepository
from patchbay.console.web import Browser, ConsoleRoute, back, posted, signed_in
from patchbay.kit.errors import NotFound

router = APIRouter(route_class=ConsoleRoute)

PAGE = "/console/keys"
# The objects Patchbay serves; `*` (every scope) is what choosing none means.
SCOPES = [
    f"{name}:{action}"
    for name in ("integration", "organization_integration", "proxy_record", "webhook")
    for action in ("read", "write")
]


async def _page(browser: Browser, status: int = 200, **values: object) -> Response:
    keys = await AccountRepository(browser.db).keys_of(browser.user_id)
    return browser.page("keys.html", status, keys=keys, scopes=SCOPES, area="keys", **values)


@router.get(PAGE)
async def keys_page(browser: Browser = Depends(signed_in)) -> Response:
    return await _page(browser)


@router.post(PAGE)
async def create_key(browser: Browser = Depends(posted)) -> Response:
    """A key of the signed-in user; its value is on this answer only (never stored, never again)."""
    chosen = [scope for scope in browser.values("scopes") if scope]
    repo = AccountRepository(browser.db)
    user = await repo.user_by_id(browser.user_id)
    assert user is not None  # the session's user is active
    try:
        created = await accounts.create_api_key(
            browser.db, user, label=browser.value("label").strip(), scopes=chosen or ["*"]
        )
    except accounts.AccountError as refused:
        await browser.db.rollback()
        return await _page(browser, 400, error=str(refused))
    await browser.db.commit()
    return await _page(browser, 201, created=created)


@router.post(PAGE + "/{key_id}/revoke")
async def revoke_key(key_id: str, browser: Browser = Depends(posted)) -> Response:
    """Revoke one of the user's own keys; another user's key is not found (404)."""
    try:
        await accounts.revoke_own_api_key(browser.db, browser.user_id, key_id)
    except accounts.AccountError:
        raise NotFound("No such API key of yours.") from None
    await browser.db.commit()
    return back(PAGE, "revoked")
