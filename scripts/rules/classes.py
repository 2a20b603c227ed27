"""Rule module `classes` (see crmdocs.scripts.rules): not written yet."""

from __future__ import annotations

NAME = "classes"


def compute(ctx) -> dict:
    return {}
