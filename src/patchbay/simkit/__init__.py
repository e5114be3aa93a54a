"""The toolkit of the loopback simulators: what they remember (faults, calls, tokens) and the shared
OAuth endpoints. Simulators live with their provider (`providers/<name>/simulator*.py`) or, for
generic OAuth providers, in `patchbay.sandbox.providers`; `patchbay.sandbox` serves them all."""
