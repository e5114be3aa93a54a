"""Loopback simulators of the providers Patchbay talks to (`patchbay sandbox`, tests, `serve --sandbox`)."""
