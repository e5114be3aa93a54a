"""Fault drills (issue 19): `python -m bench.faults`. See docs/reliability.md."""
