"""Rule module `appraisals` (see crmdocs.scripts.rules): not written yet."""

from __future__ import annotations

NAME = "appraisals"


def compute(ctx) -> dict:
    return {}
