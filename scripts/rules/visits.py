"""Rule module `visits` (see crmdocs.scripts.rules): not written yet."""

from __future__ import annotations

NAME = "visits"


def compute(ctx) -> dict:
    return {}
