__version__ = "0.1.0"

# Path convertors must exist before any route is declared: `{id:row_id}`.
from patchbay.kit import convertors as _convertors  # noqa: E402, F401
