"""Rule module `tiers` (see crmdocs.scripts.rules): not written yet."""

from __future__ import annotations

NAME = "tiers"


def compute(ctx) -> dict:
    return {}
