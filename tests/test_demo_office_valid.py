"""The bundled demo office (records/) passes `crmdocs validate`: no errors,
only the warnings an office really has."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from crmdocs.scripts.validate import validate

ROOT = Path(__file__).resolve().parents[1]
AS_OF = dt.date(2026, 11, 27)  # the last day the demo records speak of


@pytest.mark.skipif(not (ROOT / "records" / "policy.yaml").exists(), reason="no demo records")
def test_demo_office_has_no_errors():
    repo, report = validate(ROOT, today=AS_OF, jobs=2)
    assert report.errors == [], "\n".join(d.format() for d in report.errors[:30])
    assert len(repo.retailers) >= 800 and len(repo.diaries) >= 300 and len(repo.sales) > 0
    allowed = {"plan_min", "licence_expiring", "licence_expired", "no_approver", "visit_twice", "representative_share"}
    assert {d.code for d in report.warnings} <= allowed, report.to_text()
    for d in report.diagnostics:  # every problem points into a file, at a line where it has one
        assert d.path.startswith("records/") and (d.line >= 1 or d.code == "representative_share")
