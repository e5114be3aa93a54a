"""Request and response models of `POST …/connect_sessions/`."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr


class ConnectSessionCreate(BaseModel):
    """What a connect session offers: kinds, where to return, and optionally the integration to reconnect."""

    model_config = ConfigDict(extra="ignore")

    kinds: list[StrictStr] | None = Field(
        None, description="Kinds the page offers (default: every kind configured on this server)."
    )
    next: StrictStr | None = Field(
        None,
        description="Where the browser goes when connected: a relative path or a URL on an allowed origin.",
    )
    integration_id: StrictInt | None = Field(
        None, description="Reconnect this integration of the project: it keeps its id."
    )
    origin: StrictStr | None = Field(
        None,
        description="The allowed origin of the page that opens the connect page as a popup "
        "(default: the origin of `next`).",
    )


class ConnectSessionCreated(BaseModel):
    """A connect session: its token, the page URL to send the end user to, and when it expires."""

    token: str
    url: str
    expires_at: datetime
