"""Rule module `limits` (see crmdocs.scripts.rules): not written yet."""

from __future__ import annotations

NAME = "limits"


def compute(ctx) -> dict:
    return {}
