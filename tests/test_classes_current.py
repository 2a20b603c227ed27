"""recalc's side worker leaves the current month's classes files (every
active retailer's derivation) to the process that takes its first part:
it ships the month's columns (``rules.classes.CURRENT``) and
``classes.current_files`` writes them there, from that process's archives —
the bytes the worker would have written, odd shop names included."""

from __future__ import annotations

import pickle

import numpy as np

import pytest

from crmdocs.scripts.recalc import render_record
from crmdocs.scripts.rules import classes, compute_all
from crmdocs.scripts.rules.retail import as_texts, deferring
from retail_fixtures import repo
from test_rules_blocks import AS_OF, office_rows
from test_rules_classes import SEED_001
from test_rules_texts import archives

CURRENT_MONTH = f"{AS_OF:%Y-%m}/classes/"


def shipped_and_usual(r):
    usual = {path: render_record(record) for path, record in compute_all(r, as_of=AS_OF).records.items()}
    with as_texts(), deferring():
        deferred = compute_all(r, as_of=AS_OF)
    return deferred, usual


@pytest.mark.parametrize("name", ["店{n}", "店, {n} 号", "店\n{n}", "'{n}'"], ids=["plain", "comma", "two-lines", "quoted"])
@pytest.mark.parametrize("policy", [None, SEED_001], ids=["composite", "volume_bands"])
def test_the_current_month_s_files_written_from_the_shipped_columns_are_the_usual_bytes(name, policy):
    r = repo(archives(name=lambda n: name.format(n=n)), office_rows(), policy=policy)
    deferred, usual = shipped_and_usual(r)
    shipped = pickle.loads(pickle.dumps(deferred.ctx.shared[classes.CURRENT]))  # as the first part carries it
    assert not [path for path in deferred.records if path.startswith(CURRENT_MONTH)]  # left to the taker
    written = classes.current_files(r, shipped)
    current = {path: text for path, text in usual.items() if path.startswith(CURRENT_MONTH)}
    assert current and written == current
    others = {path for path in usual if "/classes/" in path} - set(current)
    assert others and others <= set(deferred.records)  # earlier months' files: written by the worker as before


def test_without_deferring_nothing_is_shipped():
    r = repo(archives(), office_rows())
    with as_texts():
        computed = compute_all(r, as_of=AS_OF)
    assert classes.CURRENT not in computed.ctx.shared
    assert any(path.startswith(CURRENT_MONTH) for path in computed.records)
    with deferring():  # (only under as_texts: the site and --jobs 1 build the records as always)
        computed = compute_all(r, as_of=AS_OF)
    assert classes.CURRENT not in computed.ctx.shared


# ---------------------------------------------------------------- tiers: the same for the current period

from crmdocs.schemas.retailer import TierOverride  # noqa: E402
from crmdocs.scripts.rules import tiers  # noqa: E402
from test_rules_texts import BANDS  # noqa: E402


@pytest.mark.parametrize("name", ["店{n}", "店\n{n}"], ids=["plain", "two-lines"])
@pytest.mark.parametrize("policy", [None, BANDS], ids=["ranking-monthly", "bands-quarterly"])
def test_the_current_period_s_tiers_files_written_from_the_shipped_columns_are_the_usual_bytes(name, policy):
    r = repo(archives(name=lambda n: name.format(n=n)), office_rows(), policy=policy)
    deferred, usual = shipped_and_usual(r)
    shipped = pickle.loads(pickle.dumps(deferred.ctx.shared[tiers.CURRENT]))
    key = shipped["key"]
    current = {path: text for path, text in usual.items() if path.startswith(f"{key}/tiers/")}
    assert current and not set(current) & set(deferred.records)
    assert tiers.current_files(r, shipped) == current


def test_a_tier_override_of_the_current_period_is_written_alike():
    r = repo(archives(), office_rows())
    period = f"{AS_OF:%Y-%m}"
    r.tier_overrides[(period, "r-000001")] = TierOverride(
        period=period, retailer="r-000001", tier=9, reason="新店装修后经营面积扩大", approver="mm-zhao", date=AS_OF)
    deferred, usual = shipped_and_usual(r)
    written = tiers.current_files(r, pickle.loads(pickle.dumps(deferred.ctx.shared[tiers.CURRENT])))
    assert written == {path: text for path, text in usual.items() if path.startswith(f"{period}/tiers/")}
    assert any("    override:\n      tier: 9\n" in text for text in written.values())


def test_own_parts_of_every_archive_are_each_archive_s_own_parts():
    import random

    from crmdocs.schemas.policy import Policy
    from crmdocs.scripts.rules.classes import own_parts, own_parts_of

    rule = Policy.model_validate({}).classes.rule
    rule.own.floor_area = [type(b)(min=m, points=p) for b, (m, p) in zip(
        rule.own.floor_area * 4, [(0, 10), (30, 40), (30, 45), (80, 70), (50, 60), (80, 75), (200, 100), (0, 5)])]
    rng = random.Random(4)
    records = []
    for n in range(300):
        r = archives()[n % 12]
        r = r.model_copy(deep=True)
        r.basic.floor_area = rng.choice([0, 29.99, 30, 30.0, 49.5, 50, 80, 81.25, 199, 200, 1e6, rng.random() * 300])
        records.append(r)
    want = np.array([own_parts(rule, r) for r in records], float)
    assert own_parts_of(rule, records).tolist() == want.tolist()
    assert own_parts_of(rule, []).shape == (0, 4)


def test_new_retailer_tiers_of_every_archive_are_each_archive_s_tier():
    import random

    from crmdocs.schemas.policy import Policy
    from crmdocs.scripts.rules.tiers import new_retailer_tier, new_retailer_tiers

    policy = Policy.model_validate({"tiers": {"new_retailer": [
        {"network": "urban", "min_area": 0, "tier": 2}, {"network": "urban", "min_area": 40, "tier": 5},
        {"network": "urban", "min_area": 40, "tier": 7}, {"network": "rural", "min_area": 20, "tier": 3},
        {"network": "urban", "min_area": 100, "tier": 9}, {"network": "rural", "min_area": 0, "tier": 1},
    ]}})
    rng = random.Random(8)
    records = []
    for n in range(200):
        r = archives()[n % 12].model_copy(deep=True)
        r.basic.floor_area = rng.choice([0, 19.5, 20, 39.99, 40, 99, 100, 250, rng.random() * 150])
        r.basic.network = rng.choice(list(type(r.basic.network)))
        records.append(r)
    want = [new_retailer_tier(policy, r.basic.network.value, r.basic.floor_area) for r in records]
    assert new_retailer_tiers(policy, records).tolist() == want
    assert new_retailer_tiers(policy, []).tolist() == []
