"""PostHog's nine-field `UserBasic` object, as every `created_by` shows it.

Repositories select CREATED_BY_COLUMNS (outer-joined on the creator); services call created_by(row).
"""

from __future__ import annotations

from typing import Any

from patchbay.kit.db import Row
from patchbay.models import User

CREATED_BY_COLUMNS = (
    User.uuid.label("cb_uuid"),
    User.distinct_id.label("cb_distinct_id"),
    User.first_name.label("cb_first_name"),
    User.last_name.label("cb_last_name"),
    User.email.label("cb_email"),
    User.is_email_verified.label("cb_is_email_verified"),
)


def created_by(row: Row) -> dict[str, Any] | None:
    """The creator of a row selected with `created_by_id` and CREATED_BY_COLUMNS, or None."""
    if row["created_by_id"] is None or row["cb_email"] is None:
        return None
    return {
        "id": row["created_by_id"],
        "uuid": str(row["cb_uuid"]),
        "distinct_id": row["cb_distinct_id"],
        "first_name": row["cb_first_name"],
        "last_name": row["cb_last_name"],
        "email": row["cb_email"],
        "is_email_verified": row["cb_is_email_verified"],
        "hedgehog_config": None,
        "role_at_organization": None,
    }
