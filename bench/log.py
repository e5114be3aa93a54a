"""The benchmark runner's progress lines, on stderr (stdout carries the report)."""

from __future__ import annotations

import sys


def say(message: str) -> None:
    sys.stderr.write(f"[bench] {message}\n")
    sys.stderr.flush()
