"""Response shapes several providers' resource routes share."""

from __future__ import annotations

from pydantic import BaseModel


class IdName(BaseModel):
    """A provider object named by its id."""

    id: str
    name: str
