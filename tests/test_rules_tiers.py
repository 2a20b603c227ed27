"""Supply tiers (货源档位): score, ranking and bands, new retailers, locking,
reviewed overrides. Period 2026-10 stands on the purchases of the 28 days
before it: [2026-09-03, 2026-10-01)."""

from __future__ import annotations

import datetime as dt

from retail_fixtures import repo, retailer, run

from crmdocs.schemas import TierOverride
from crmdocs.scripts.rules.explain_retailer import explain_retailer

AS_OF = dt.date(2026, 10, 20)


def office(extra_sales=(), policy=None, overrides=None):
    rs = [
        retailer("r-1", area=100),
        retailer("r-2", area=30),
        retailer("r-3", area=60),
        retailer("r-new-urban", area=80),
        retailer("r-new-rural", network="rural", area=10),
        retailer("r-new-rural-big", network="rural", area=60),
    ]
    sales = [
        (dt.date(2026, 9, 10), "r-1", "b-1", 40, 4000.0),
        (dt.date(2026, 9, 10), "r-2", "b-1", 20, 6000.0),
        (dt.date(2026, 9, 10), "r-3", "b-1", 10, 1000.0),
        *extra_sales,
    ]
    r = repo(rs, sales, policy=policy)
    for o in overrides or []:
        r.tier_overrides[(o.period, o.retailer)] = o
    return run(r, AS_OF)


def tiers(c, period="2026-10"):
    return c.records[f"{period}/tiers/d-east.yaml"]


def test_ranking_mode_worked_by_hand():
    f = tiers(office())
    d1, d2, d3 = (f.retailers[r] for r in ("r-1", "r-2", "r-3"))
    # percentile ranks among the 3 ranked retailers: 100 × below / (3 − 1)
    # quantity 40 > 20 > 10: 100, 50, 0; amount 6000 (r-2) > 4000 > 1000: r-1 50, r-2 100, r-3 0
    # capability (floor area) 100 > 60 > 30: r-1 100, r-3 50, r-2 0
    assert (d1.quantity_rank, d1.amount_rank, d1.capability_rank) == (100.0, 50.0, 100.0)
    # score = 0.3 q + 0.5 a + 0.2 c: r-1 30 + 25 + 20 = 75; r-2 15 + 50 + 0 = 65; r-3 0 + 0 + 10 = 10
    assert (d1.score, d2.score, d3.score) == (75.0, 65.0, 10.0)
    # tier = min(30, 1 + ⌊score rank × 30 / 100⌋): r-1 min(30, 31) = 30; r-2 1 + 15 = 16; r-3 1
    assert (d1.tier, d2.tier, d3.tier) == (30, 16, 1)
    assert f.tiers["r-2"] == 16 and f.mode == "ranking"
    assert (f.window.start, f.window.end) == (dt.date(2026, 9, 3), dt.date(2026, 9, 30))


def test_new_retailers_start_from_network_and_floor_area():
    f = tiers(office())
    # urban ≥ 80 m² → 12; rural < 60 → 3; rural ≥ 60 → 8 (policy defaults)
    assert [f.tiers[r] for r in ("r-new-urban", "r-new-rural", "r-new-rural-big")] == [12, 3, 8]
    d = f.retailers["r-new-urban"]
    assert (d.basis, d.network, d.floor_area, d.score) == ("new_retailer", "urban", 80.0, None)


def test_bands_mode_uses_absolute_score_bands_on_the_line():
    policy = {"tiers": {"mode": "bands", "bands": [{"tier": 4, "min": 75}, {"tier": 3, "min": 70}, {"tier": 2, "min": 65}]}}
    f = tiers(office(policy=policy))
    # 75 → 4 (exactly on the line), 65 → 2 (on the line), 10 → below every band → 1
    assert [f.tiers[r] for r in ("r-1", "r-2", "r-3")] == [4, 2, 1]
    assert f.retailers["r-1"].score_rank is None


def test_policy_weights_change_the_tiers():
    f = tiers(office(policy={"tiers": {"weights": {"quantity": 0, "amount": 1, "capability": 0}}}))
    # amount only: r-2 (6000) is top → 30, r-1 (4000) rank 50 → 16, r-3 → 1
    assert [f.tiers[r] for r in ("r-2", "r-1", "r-3")] == [30, 16, 1]


def test_a_published_period_does_not_move_when_later_sales_arrive():
    before = tiers(office())
    late = [(dt.date(2026, 10, 5), "r-3", "b-1", 500, 90000.0), (dt.date(2026, 10, 6), "r-new-urban", "b-1", 9, 900.0)]
    after_run = office(extra_sales=late)
    assert tiers(after_run).tiers == before.tiers
    # the October purchases count for November's list only (as_of in November)
    r = after_run.ctx.repo
    nov = run(r, dt.date(2026, 11, 2)).records["2026-11/tiers/d-east.yaml"]
    assert nov.tiers["r-3"] == 30 and nov.retailers["r-new-urban"].basis == "ranking"


def test_an_override_is_a_reviewed_record_and_the_computed_tier_stays_visible():
    o = TierOverride(period="2026-10", retailer="r-3", tier=20, reason="新店装修后经营面积扩大", approver="mm-zhao",
                     date=dt.date(2026, 10, 2))
    c = office(overrides=[o])
    d = tiers(c).retailers["r-3"]
    assert (d.computed_tier, d.tier) == (1, 20)
    assert d.override.reason == "新店装修后经营面积扩大"
    assert d.override.source == "records/tier-overrides/2026-10/r-3.yaml"
    assert tiers(c).tiers["r-3"] == 20
    assert c.ctx.shared["tiers"]["2026-10"]["r-3"] == 20
    text = explain_retailer(c, "r-3", "2026-10")
    assert "人工调整为 20 档" in text and "mm-zhao" in text


def test_an_override_needs_the_departments_market_manager(mini):
    rel = mini.write("tier-overrides/2026-09/r-0003.yaml", {
        "period": "2026-09", "retailer": "r-0003", "tier": 31, "reason": "试点", "approver": "mm-zhao", "date": "2026-09-01",
    })
    errors = sorted(mini.validate().errors, key=lambda d: d.line)
    assert [(d.path, d.field, d.code) for d in errors] == [
        (rel, "tier", "tier_range"),  # count is 30
        (rel, "approver", "approver_role"),  # r-0003 is d-west's: mm-qian approves
    ]
    assert errors[1].line == mini.line_of("tier-overrides/2026-09/r-0003.yaml", "approver:")
    assert "mm-qian" in errors[1].message


def test_the_override_file_name_must_match_its_content(mini):
    mini.write("tier-overrides/2026-10/r-0002.yaml", {
        "period": "2026-09", "retailer": "r-0002", "tier": 3, "reason": "试点", "approver": "mm-zhao", "date": "2026-09-01",
    })
    codes = [d.code for d in mini.validate().errors]
    assert codes == ["name_mismatch"]


def test_quarterly_periods():
    c = office(policy={"tiers": {"period": "quarter"}})
    f = c.records["2026-Q4/tiers/d-east.yaml"]
    assert f.period == "2026-Q4" and f.tiers["r-2"] == 16
    assert "2026-10/tiers/d-east.yaml" not in c.records


def test_only_the_current_period_carries_derivations():
    c = office(extra_sales=[(dt.date(2026, 8, 20), "r-1", "b-1", 5, 500.0)])
    sept = c.records["2026-09/tiers/d-east.yaml"]
    assert sept.retailers == {} and sept.tiers["r-1"] == 30
    assert set(tiers(c).retailers) == set(tiers(c).tiers)
