"""Rule module `complaints` (see crmdocs.scripts.rules): not written yet."""

from __future__ import annotations

NAME = "complaints"


def compute(ctx) -> dict:
    return {}
