"""The baseline stays comparable: the same PostgreSQL session settings as Patchbay's engine."""

from __future__ import annotations

from bench.baseline import SERVER_SETTINGS as BASELINE

from patchbay.kit.db import SERVER_SETTINGS


def test_the_baseline_runs_with_the_engines_session_settings() -> None:
    assert {**BASELINE, "application_name": ""} == {**SERVER_SETTINGS, "application_name": ""}
