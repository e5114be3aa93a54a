"""`patchbay.asgi:app` for servers started with several workers (settings from the environment)."""

from patchbay.app import create_app
from patchbay.config import Settings

app = create_app(Settings())
