"""Rule module `abnormal` (see crmdocs.scripts.rules): not written yet."""

from __future__ import annotations

NAME = "abnormal"


def compute(ctx) -> dict:
    return {}
