"""Patchbay's benchmark suite: `python -m bench [--quick]` from the repository root (docs/benchmarks.md)."""
