"""The computed records committed with the demo office are current:
`crmdocs recalc --check` holds for main (CI's main job recalculates and commits them)."""

from __future__ import annotations

from pathlib import Path

from crmdocs.scripts import recalc

ROOT = Path(__file__).resolve().parents[1]


def test_committed_computed_records_match_a_recalculation():
    texts = recalc.render(recalc.compute(ROOT, jobs=2))
    differences = recalc.check(ROOT, texts)
    assert differences == [], "run `crmdocs recalc` and commit records/computed/:\n" + "\n".join(
        str(d) for d in differences[:20]
    )


def test_every_period_of_the_demo_has_computed_results():
    periods = {p.name for p in (ROOT / "records" / "computed").iterdir() if p.is_dir()}
    assert {"2026-09", "2026-10", "2026-11", "2026-Q3", "2026-Q4", "2026"} <= periods
