"""One module per simulated provider (see patchbay.sandbox.app for the module contract)."""
